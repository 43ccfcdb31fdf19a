"""The backend registry: registration checks, lazy loading, missing extras, entry-point plugins."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlops_infra.catalog import GpuOffers
from mlops_infra.errors import MissingExtraError, RegistryError
from mlops_infra.registry import CloudInfo, Flavor, Registry
from mlops_infra.specs.loading import spec_from_config
from mlops_infra.testing import run_stack

IMPL = "mlops_infra.backends.local.artifact_store:LocalArtifactStore"


def _registry() -> Registry:
    registry = Registry(load_entry_points=False)
    registry.register_cloud(
        CloudInfo(name="acme", description="test", gpus=GpuOffers(cloud="acme"))
    )
    return registry


def _flavor(**overrides: object) -> Flavor:
    fields: dict[str, object] = {
        "cloud": "acme",
        "kind": "artifact_store",
        "name": "disk",
        "implementation": IMPL,
        "description": "a disk",
        "default": True,
    }
    fields.update(overrides)
    return Flavor(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "feature_store"}, "unknown kind 'feature_store'; known: artifact_store,"),
        ({"name": "Disk!"}, "flavor 'Disk!' is not valid"),
        ({"cloud": "ACME"}, "cloud 'ACME' is not valid"),
        ({"implementation": "no colon here"}, "is not 'package.module:ClassName'"),
        ({"options": dict}, "options must be a pydantic model class"),
        ({"options": "no colon"}, "options 'no colon' is not 'package.module:attribute'"),
    ],
)
def test_registration_checks_every_field(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        _registry().register_flavor(_flavor(**overrides))


def test_options_given_as_a_path_are_imported_on_first_use() -> None:
    path = "mlops_infra.backends.local.options:LocalStoreOptions"
    flavor = _flavor(options=path)
    _registry().register_flavor(flavor)
    from mlops_infra.backends.local.options import LocalStoreOptions

    assert flavor.options == path
    assert flavor.options_model is LocalStoreOptions
    assert _flavor(options=LocalStoreOptions).options_model is LocalStoreOptions
    assert _flavor().options_model is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("mlops_infra.nowhere:Options", r"flavor acme/artifact_store/disk: options: cannot import"),
        (
            "mlops_infra.registry:Nothing",
            "module 'mlops_infra.registry' has no attribute 'Nothing'",
        ),
        ("mlops_infra.registry:BUILTIN_KINDS", "options must be a pydantic model class"),
    ],
)
def test_options_path_errors_name_the_flavor(path: str, message: str) -> None:
    flavor = _flavor(options=path)
    _registry().register_flavor(flavor)
    with pytest.raises(RegistryError, match=message):
        flavor.options_model  # noqa: B018 - the property imports


def test_declaring_the_clouds_builds_no_options_model() -> None:
    code = (
        "import json, sys\n"
        "from mlops_infra.registry import FlavorRegistry\n"
        "FlavorRegistry().flavors()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.endswith('.options'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # aws.options is imported with the AWS backends; every other cloud's waits for a stack.
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert not loaded & {f"mlops_infra.backends.{c}.options" for c in ("azure", "gcp", "local")}


def test_registration_rejects_other_types() -> None:
    with pytest.raises(RegistryError, match="register_flavor expects a Flavor; got dict"):
        _registry().register_flavor({"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="register_cloud expects a CloudInfo; got str"):
        _registry().register_cloud("acme")  # type: ignore[arg-type]


def test_duplicates_name_both_sources() -> None:
    registry = _registry()
    with registry.source("first-plugin"):
        registry.register_flavor(_flavor())
    with (
        registry.source("second-plugin"),
        pytest.raises(
            RegistryError,
            match="flavor acme/artifact_store/disk is registered twice: by 'first-plugin' and by 'second-plugin'",
        ),
    ):
        registry.register_flavor(_flavor())


def test_second_default_is_rejected() -> None:
    registry = _registry()
    registry.register_flavor(_flavor())
    with pytest.raises(RegistryError, match="are both marked default for acme/artifact_store"):
        registry.register_flavor(_flavor(name="tape"))


def test_duplicate_cloud_is_rejected() -> None:
    with pytest.raises(RegistryError, match="cloud 'acme' is registered twice"):
        _registry().register_cloud(
            CloudInfo(name="acme", description="x", gpus=GpuOffers(cloud="acme"))
        )


def test_lookup_errors_list_what_exists() -> None:
    registry = _registry()
    registry.register_flavor(_flavor())
    registry.register_flavor(_flavor(name="tape", default=False))
    assert registry.flavor("acme", "artifact_store").name == "disk"
    with pytest.raises(
        RegistryError, match="'nfs' is not a artifact_store flavor on acme; available: disk, tape"
    ):
        registry.flavor("acme", "artifact_store", "nfs")
    with pytest.raises(
        RegistryError, match="no pipeline implementation is registered for cloud 'acme'"
    ):
        registry.flavor("acme", "pipeline")
    with pytest.raises(RegistryError, match="'mars' is not a known cloud; known: acme"):
        registry.flavor("mars", "pipeline")


def test_missing_extra_names_the_pip_command() -> None:
    registry = _registry()
    flavor = _flavor(requires=("acme_cloud_sdk_not_installed",), extra="acme")
    registry.register_flavor(flavor)
    with pytest.raises(MissingExtraError) as raised:
        registry.load(flavor)
    assert str(raised.value) == (
        "flavor acme/artifact_store/disk needs the Python package 'acme_cloud_sdk_not_installed', "
        "which is not installed; run: pip install 'mlops-infra[acme]'"
    )


def test_implementation_must_subclass_the_kind_base() -> None:
    registry = _registry()
    flavor = _flavor(implementation="mlops_infra.backends.local.pipeline:LocalPipeline")
    registry.register_flavor(flavor)
    with pytest.raises(RegistryError, match=r"must be a class subclassing .*ArtifactStoreBackend"):
        registry.load(flavor)


def test_unimportable_implementation() -> None:
    registry = _registry()
    flavor = _flavor(implementation="acme_missing.module:Thing")
    registry.register_flavor(flavor)
    with pytest.raises(RegistryError, match=r"cannot import 'acme_missing\.module'"):
        registry.load(flavor)


def test_new_kind_can_be_registered() -> None:
    registry = _registry()
    registry.register_kind("feature_store", "acme_features.backend:FeatureStoreBackend")
    registry.register_flavor(
        _flavor(kind="feature_store", implementation="acme_features.backend:Redis")
    )
    assert [f.kind for f in registry.flavors("acme")] == ["feature_store"]
    with pytest.raises(RegistryError, match="kind 'feature_store' is already registered"):
        registry.register_kind("feature_store", "x.y:Z")


# A third-party package, installed the way pip would leave it: a module and a .dist-info
# folder whose entry_points.txt registers it in the mlops_infra.backends group.
PLUGIN = '''
"""acme-mlops: a third-party plugin adding a flavor to the local cloud."""

from pydantic import BaseModel
import pulumi

from mlops_infra.registry import Flavor, Registry
from mlops_infra.resources import ArtifactStoreBackend, StoreRef


class RamDiskOptions(BaseModel):
    size_gib: int = 1


class RamDisk(ArtifactStoreBackend):
    def create(self, ctx, spec):
        options = ctx.options_as(RamDiskOptions)
        disk = pulumi.CustomResource(
            "acme:index:RamDisk", ctx.child_name(), {"sizeGib": options.size_gib}, ctx.opts(stateful=True)
        )
        return StoreRef(uri=disk.id.apply(lambda i: f"file:///mnt/{i}"))


def register(registry: Registry) -> None:
    registry.register_flavor(
        Flavor(
            cloud="local",
            kind="artifact_store",
            name="ramdisk",
            implementation="acme_mlops:RamDisk",
            description="an artifact store on a RAM disk",
            options=RamDiskOptions,
        )
    )
'''


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acme_mlops.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "acme_mlops-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-mlops\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """
            [mlops_infra.backends]
            acme = acme_mlops:register
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_mlops", None)


@pytest.mark.usefixtures("installed_plugin")
def test_a_separate_package_adds_a_flavor_that_a_stack_uses() -> None:
    registry = Registry()  # discovers built-in and third-party entry points alike
    assert "ramdisk" in [f.name for f in registry.flavors("local", "artifact_store")]
    spec = spec_from_config(
        {
            "mlops:cloud": "local",
            "mlops:stack": {"artifact_store": {"flavor": "ramdisk", "options": {"size_gib": 4}}},
        },
        registry=registry,
    )
    run = run_stack(spec, registry=registry)
    (disk,) = run.of_type("acme:index:RamDisk")
    assert disk.name == "mlops-store"
    assert disk.plain_inputs() == {"sizeGib": 4}
    assert disk.urn.endswith("mlops:index:ArtifactStore$acme:index:RamDisk::mlops-store")
    assert run.outputs["artifact_uri"] == "file:///mnt/mlops-store-id"


@pytest.mark.usefixtures("installed_plugin")
def test_plugin_options_are_validated_with_paths() -> None:
    from mlops_infra.errors import SpecValidationError

    with pytest.raises(SpecValidationError) as raised:
        spec_from_config(
            {
                "mlops:cloud": "local",
                "mlops:stack": {
                    "artifact_store": {"flavor": "ramdisk", "options": {"size_gib": "big"}}
                },
            },
            registry=Registry(),
        )
    (issue,) = raised.value.issues
    assert issue.path == "mlops:stack.artifact_store.options.size_gib"
    assert "(options of flavor local/artifact_store/ramdisk)" in issue.message


def test_broken_plugin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "broken_mlops-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-mlops\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[mlops_infra.backends]\nbroken = broken_mlops_missing:register\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        RegistryError,
        match="backend plugin 'broken' \\(broken_mlops_missing:register\\) cannot be loaded",
    ):
        Registry().clouds()
