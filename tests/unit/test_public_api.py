"""The public API: pinned names, no provider types anywhere in it, no cloud SDK on import."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import pulumi

import mlops_infra
from mlops_infra.python_source import parse_python

REPO = Path(__file__).resolve().parents[2]
PROVIDER_PACKAGES = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
# pulumi.Input is Union[T, Awaitable[T], "Output[T]"]: its forward references resolve in
# the namespace of pulumi.output.
PULUMI_NAMES = dict(vars(pulumi.output))

EXPECTED = [
    "ArtifactStore", "ArtifactStoreArgs", "ArtifactStoreBackend", "ArtifactStoreSpec", "Backend",
    "BackendError", "BuildContext", "ChampionComparison", "CloudInfo", "ComputeRef",
    "ContainerRegistrySpec", "DataRef", "EndpointResult", "ExistingArtifactStore", "ExistingNetwork",
    "ExistingTrackingServer", "ExistingTrainingCluster", "Flavor", "FlavorRegistry", "Foundation", "FoundationArgs",
    "FoundationBackend", "FoundationRef", "IdentitySpec", "JobResult", "LifecycleRule", "LimitsSpec",
    "MetricCondition", "MissingExtraError", "MlopsError", "MlopsStack", "MlopsStackArgs", "NetworkSpec",
    "Pipeline", "PipelineArgs", "PipelineBackend", "PipelineResult", "PipelineSpec", "PromotionGate",
    "Registry", "RegistryError", "ScheduleSpec", "SecretsSpec", "ServedModel", "ServingEndpoint", "ServingEndpointArgs",
    "ServingEndpointBackend", "ServingEndpointSpec", "SpecIssue", "SpecValidationError", "StackSpec",
    "StepSpec", "StoreRef", "Target", "TrackingRef", "TrackingServer", "TrackingServerArgs",
    "TrackingServerBackend", "TrackingServerSpec", "TrainingCluster", "TrainingClusterArgs",
    "TrainingClusterBackend", "TrainingClusterSpec", "TrainingJob", "TrainingJobArgs",
    "TrainingJobBackend", "TrainingJobSpec", "__version__", "default_registry", "load_stack_file",
    "spec_from_config",
]  # fmt: skip


def test_all_is_pinned() -> None:
    assert sorted(mlops_infra.__all__) == sorted(EXPECTED)
    for name in mlops_infra.__all__:
        assert hasattr(mlops_infra, name), name


def _own(obj: object) -> bool:
    return getattr(obj, "__module__", "").startswith("mlops_infra")


def _annotations_of(obj: object) -> list[object]:
    """Annotations of our own code: fields, attributes and signatures of every public method."""
    found: list[object] = []
    if inspect.isclass(obj):
        for cls in (c for c in obj.__mro__ if _own(c)):
            found += list(typing.get_type_hints(cls, localns=PULUMI_NAMES).values())
            for member in vars(cls).values():
                function = getattr(member, "__func__", member)
                if inspect.isfunction(function) and _own(function):
                    found += list(typing.get_type_hints(function, localns=PULUMI_NAMES).values())
    elif inspect.isfunction(obj):
        found += list(typing.get_type_hints(obj, localns=PULUMI_NAMES).values())
    return found


def _modules_in(annotation: object) -> set[str]:
    modules = {getattr(annotation, "__module__", "")}
    for argument in typing.get_args(annotation):
        modules |= _modules_in(argument)
    return modules


def test_no_provider_type_appears_in_public_signatures() -> None:
    checked = 0
    for name in mlops_infra.__all__:
        for annotation in _annotations_of(getattr(mlops_infra, name)):
            checked += 1
            leaked = {m for m in _modules_in(annotation) if m.startswith(PROVIDER_PACKAGES)}
            assert not leaked, f"{name} exposes {annotation!r}"
    assert checked > 200


def test_importing_the_package_imports_no_cloud_sdk() -> None:
    code = (
        "import sys, mlops_infra, mlops_infra.testing, mlops_infra.specs.loading;"
        "mlops_infra.default_registry().clouds();"
        f"print(sorted(m for m in sys.modules if m.startswith({PROVIDER_PACKAGES!r})))"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()
    assert printed == "[]"


def _imported_modules(path: Path) -> set[str]:
    tree = parse_python(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_each_cloud_sdk_is_imported_only_by_its_own_backend() -> None:
    owner = {"pulumi_aws": "aws", "pulumi_gcp": "gcp", "pulumi_azure_native": "azure"}
    offenders: list[str] = []
    for path in (REPO / "mlops_infra").rglob("*.py"):
        relative = path.relative_to(REPO / "mlops_infra")
        backend = (
            relative.parts[1]
            if relative.parts[0] == "backends" and len(relative.parts) > 2
            else None
        )
        for module in _imported_modules(path):
            sdk = module.split(".")[0]
            if sdk in owner and owner[sdk] != backend:
                offenders.append(f"{relative} imports {module}")
            if sdk in owner and relative.name == "plugin.py":
                offenders.append(
                    f"{relative} (a plugin module, loaded by every command) imports {module}"
                )
    assert offenders == []


def test_the_readme_promises_what_the_package_exports() -> None:
    import mlops_infra.testing

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in ("run_stack", "fake_registry", "EngineHarness"):
        assert f"`{name}`" in readme
        assert name in mlops_infra.testing.__all__
    adopted = {
        "ArtifactStore": mlops_infra.ArtifactStoreSpec,
        "TrackingServer": mlops_infra.TrackingServerSpec,
        "TrainingCluster": mlops_infra.TrainingClusterSpec,
    }
    flat = " ".join(readme.split())
    for component, spec in adopted.items():
        existing = f"Existing{component}"
        assert f"`{component}` (`{existing}`)" in flat
        assert typing.get_args(spec.model_fields["existing"].annotation) == (
            getattr(mlops_infra, existing),
            type(None),
        )
    assert "existing" not in mlops_infra.TrainingJobSpec.model_fields
    assert "existing" not in mlops_infra.ServingEndpointSpec.model_fields
