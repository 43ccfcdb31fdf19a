"""Registration of the gcp cloud, its options, and the example stack file end to end."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

import pytest
from gcp_mocks import BUCKET, DYNAMIC, REPO, SERVICE, SQL, WORKFLOW, GcpMocks, gcp_registry, synth
from pydantic import ValidationError

from mlops_infra.backends.gcp.options import CloudRunServingOptions, CloudRunTrackingOptions
from mlops_infra.backends.gcp.plugin import FLAVORS
from mlops_infra.offline import EchoMocks, unwrap_secrets
from mlops_infra.registry import BUILTIN_KINDS
from mlops_infra.specs.loading import load_stack_file
from mlops_infra.testing import run_stack

STACK_FILE = REPO / "stacks" / "Pulumi.gcp-dev.yaml"
DEFAULTS = {
    "foundation": "default",
    "artifact_store": "gcs",
    "tracking_server": "cloud-run",
    "training_cluster": "vertex",
    "training_job": "vertex",
    "pipeline": "workflows",
    "serving_endpoint": "cloud-run",
}


def test_every_kind_has_a_default_gcp_flavor_that_loads() -> None:
    registry = gcp_registry()
    assert set(DEFAULTS) == set(BUILTIN_KINDS)
    for kind, name in DEFAULTS.items():
        flavor = registry.flavor("gcp", kind, None)
        assert (flavor.name, flavor.default) == (name, True)
        assert flavor.requires == ("pulumi_gcp",)
        assert flavor.extra == "gcp"
    for declared in FLAVORS:  # each implementation subclasses its kind's base
        registry.load(registry.flavor("gcp", declared.kind, declared.name))
    assert {f.name for f in registry.flavors("gcp", "training_cluster")} == {"vertex", "gke"}
    assert {f.name for f in registry.flavors("gcp", "training_job")} == {"vertex", "cloud-run"}


def test_gcp_registers_through_the_entry_point() -> None:
    points = importlib.metadata.entry_points(group="mlops_infra.backends")
    assert [p.value for p in points if p.name == "gcp"] == [
        "mlops_infra.backends.gcp.plugin:register"
    ]


def test_registering_imports_no_cloud_sdk() -> None:
    code = textwrap.dedent(
        """
        import sys
        from mlops_infra.registry import Registry
        from mlops_infra.backends.gcp.plugin import register
        register(Registry(load_entry_points=False))
        loaded = [m for m in sys.modules if m.startswith(("pulumi_gcp", "google.auth", "mlflow"))]
        assert not loaded, loaded
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_options_are_checked_with_the_field_and_value() -> None:
    with pytest.raises(ValidationError, match="database_tier"):
        CloudRunTrackingOptions.model_validate({"database_tier": "huge"})
    with pytest.raises(ValidationError, match="memory"):
        CloudRunServingOptions.model_validate({"memory": "16GB"})
    with pytest.raises(ValidationError, match="not a container image reference"):
        CloudRunServingOptions.model_validate({"image": "Not An Image"})


def test_unknown_options_are_reported_at_validation() -> None:
    from mlops_infra.specs import StackSpec

    with pytest.raises(ValidationError, match=r"tracking\.options\.databse_tier"):
        StackSpec.model_validate(
            {"cloud": "gcp", "tracking": {"options": {"databse_tier": "db-custom-1-3840"}}},
            context={"registry": gcp_registry()},
        )


def test_example_stack_file_loads() -> None:
    spec = load_stack_file(STACK_FILE, registry=gcp_registry())
    assert (spec.cloud, spec.environment, spec.region) == ("gcp", "dev", "europe-west4")
    assert spec.network.create
    assert [c.name for c in spec.clusters] == ["cpu", "gpu"]
    assert spec.endpoints[0].min_replicas == 0


def test_example_stack_synthesizes_every_concept_on_gcp() -> None:
    spec = load_stack_file(STACK_FILE, registry=gcp_registry())
    run = synth(spec.model_dump(mode="json", exclude_unset=True), stack="gcp-dev")
    custom = [r for r in run.registrations if r.custom]
    assert custom
    clouds = {r.type.split(":")[0] for r in custom}
    assert clouds <= {"gcp", "pulumi-python"}, clouds
    for type_token, name in (
        (BUCKET, "mlops-store"),
        (SQL, "mlops-tracking-db"),
        (SERVICE, "mlops-tracking-service"),
        (WORKFLOW, "mlops-pipeline-diagnosis"),
        (DYNAMIC + "GcpCloudRunDeployment", "mlops-endpoint-diagnosis"),
        ("gcp:cloudscheduler/job:Job", "mlops-pipeline-diagnosis-schedule"),
    ):
        run.one(type_token, name)
    # Development: nothing stateful is protected, so the stack can be torn down.
    assert not [r.name for r in run.registrations if r.protect]
    outputs = unwrap_secrets(run.outputs)
    assert outputs["artifact_uri"] == "gs://mlops-store-a1b2c3d"
    assert outputs["pipelines"]["diagnosis"]["model_name"] == "diagnosis"


def test_example_stack_synthesizes_with_plain_echo_mocks() -> None:
    # What an offline plan without GCP-specific mocks sees: computed outputs are None.
    spec = load_stack_file(STACK_FILE, registry=gcp_registry())
    run = run_stack(
        spec, registry=gcp_registry(), project_dir=REPO, stack="gcp-dev", mocks=EchoMocks()
    )
    assert len([r for r in run.registrations if r.custom]) > 50


def test_production_protects_every_stateful_resource() -> None:
    spec = load_stack_file(STACK_FILE, registry=gcp_registry())
    data = spec.model_dump(mode="json", exclude_unset=True)
    data["environment"] = "prod"
    run = synth(data, stack="gcp-prod", mocks=GcpMocks())
    stateful = {
        "gcp:storage/bucket:Bucket",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:sql/database:Database",
        "gcp:artifactregistry/repository:Repository",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:kms/keyRing:KeyRing",
    }
    found = [r for r in run.registrations if r.type in stateful]
    assert {r.type for r in found} == stateful
    for registration in found:
        assert registration.protect, registration.name
        assert registration.retain_on_delete, registration.name


def test_a_fresh_project_enables_the_apis_first_and_everything_waits_for_them() -> None:
    """Issue 14.1: without the APIs a fresh project's first resources fail SERVICE_DISABLED.

    https://cloud.google.com/service-usage/docs/enable-disable
    """
    from mlops_infra.backends.gcp.foundation import REQUIRED_APIS

    spec = load_stack_file(STACK_FILE, registry=gcp_registry())
    run = synth(spec.model_dump(mode="json", exclude_unset=True), stack="gcp-dev")
    services = run.of_type("gcp:projects/service:Service")
    assert sorted(s.plain_inputs()["service"] for s in services) == sorted(
        f"{api}.googleapis.com" for api in REQUIRED_APIS
    )
    assert all(s.plain_inputs()["disableOnDestroy"] is False for s in services)
    apis = {s.urn for s in services}
    waiting = [r for r in run.registrations if r.custom and r.urn not in apis]
    assert len(waiting) > 50
    assert [r.name for r in waiting if not apis <= set(r.depends_on)] == []
