"""Components under mocks on the fake cloud: exact child types, names, key inputs and options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from mlops_infra import (
    ArtifactStore,
    ArtifactStoreArgs,
    ArtifactStoreSpec,
    ExistingArtifactStore,
    SpecValidationError,
    Target,
    TrainingCluster,
    TrainingClusterArgs,
    TrainingClusterSpec,
)
from mlops_infra.offline import run_offline
from mlops_infra.testing import FAKE_CLOUD, fake_registry, run_stack

REPO = Path(__file__).resolve().parents[3]
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
ALIAS = "pulumi-python:dynamic/mlops:ModelAlias"

STACK: dict[str, Any] = {
    "cloud": "fake",
    "environment": "prod",
    "tags": {"team": "ml"},
    "clusters": [{"name": "gpu", "gpu": "t4", "gpu_count": 2, "max_nodes": 3, "spot": True}],
    "pipelines": [
        {
            "name": "diagnosis",
            "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
            "steps": [
                {"name": "featurize", "component": "diagnosis.featurize"},
                {
                    "name": "train",
                    "component": "diagnosis.train",
                    "depends_on": ["featurize"],
                    "cluster": "gpu",
                },
            ],
            "schedule": {"cron": "0 3 * * 1"},
        }
    ],
    "endpoints": [
        {
            "name": "diagnosis",
            "model": "diagnosis",
            "gpu": "t4",
            "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]},
        }
    ],
}


@pytest.fixture(scope="module")
def run() -> Any:
    return run_stack(STACK, registry=fake_registry(), project_dir=REPO, stack="prod")


def test_component_tree(run: Any) -> None:
    tree = sorted(
        (r.type, r.name, r.parent.rsplit("::", 1)[-1] if r.parent else None)
        for r in run.registrations
    )
    assert tree == sorted(
        [
            ("mlops:index:MlopsStack", "mlops", "mlops-prod"),
            ("mlops:index:Foundation", "mlops", "mlops"),
            ("fake:index:Registry", "mlops-registry", "mlops"),
            ("mlops:index:ArtifactStore", "mlops-store", "mlops"),
            ("fake:index:Bucket", "mlops-store", "mlops-store"),
            ("mlops:index:TrackingServer", "mlops-tracking", "mlops"),
            ("fake:index:TrackingServer", "mlops-tracking", "mlops-tracking"),
            ("mlops:index:TrainingCluster", "mlops-cluster-gpu", "mlops"),
            ("fake:index:NodePool", "mlops-cluster-gpu", "mlops-cluster-gpu"),
            ("mlops:index:Pipeline", "mlops-pipeline-diagnosis", "mlops"),
            ("fake:index:Pipeline", "mlops-pipeline-diagnosis", "mlops-pipeline-diagnosis"),
            ("mlops:index:ServingEndpoint", "mlops-endpoint-diagnosis", "mlops"),
            ("fake:index:Endpoint", "mlops-endpoint-diagnosis", "mlops-endpoint-diagnosis"),
            (GATE, "mlops-endpoint-diagnosis-gate", "mlops-endpoint-diagnosis"),
            (ALIAS, "mlops-endpoint-diagnosis-alias", "mlops-endpoint-diagnosis"),
        ]
    )


def test_urns_encode_the_parent_type(run: Any) -> None:
    (bucket,) = run.of_type("fake:index:Bucket")
    # The mock monitor keeps the parent's type only; the engine writes the whole chain.
    assert (
        bucket.urn
        == "urn:pulumi:prod::mlops::mlops:index:ArtifactStore$fake:index:Bucket::mlops-store"
    )
    (store,) = run.of_type("mlops:index:ArtifactStore")
    assert bucket.parent == store.urn


def test_stateful_children_are_protected_in_prod(run: Any) -> None:
    protected = {r.type for r in run.registrations if r.protect and r.retain_on_delete}
    assert protected == {"fake:index:Bucket", "fake:index:TrackingServer", "fake:index:Registry"}


def test_key_inputs(run: Any) -> None:
    (bucket,) = run.of_type("fake:index:Bucket")
    inputs = bucket.plain_inputs()
    assert inputs["versioning"] is True
    # Numbers travel as floats and None-valued keys are dropped, as on the engine.
    assert inputs["lifecycle"] == [{"name": "tmp", "prefix": "tmp/", "expire_after_days": 7.0}]
    assert inputs["tags"] == {
        "managed-by": "mlops-infra",
        "mlops-component": "mlops-store",
        "mlops-environment": "prod",
        "mlops-stack": "prod",
        "team": "ml",
    }
    (tracking,) = run.of_type("fake:index:TrackingServer")
    assert tracking.plain_inputs()["auth"] is True
    assert tracking.plain_inputs()["artifactUri"] == "fake://mlops-store-id"
    assert tracking.masked_inputs()["adminPassword"] == "[secret]"
    assert tracking.additional_secret_outputs == ("adminPassword",)
    (pool,) = run.of_type("fake:index:NodePool")
    assert pool.plain_inputs() == {
        "instanceType": "fake.t4.2",
        "minNodes": 0,
        "maxNodes": 3,
        "spot": True,
    }
    (pipeline,) = run.of_type("fake:index:Pipeline")
    assert pipeline.plain_inputs()["steps"] == ["featurize", "train"]
    assert pipeline.plain_inputs()["schedule"] == "0 3 * * 1"
    (endpoint,) = run.of_type("fake:index:Endpoint")
    assert endpoint.plain_inputs()["instanceType"] == "fake.t4.1"
    assert endpoint.plain_inputs()["minReplicas"] == 2  # production default
    assert endpoint.plain_inputs()["public"] is False


def test_outputs_are_plain_and_uniform(run: Any) -> None:
    assert run.outputs["artifact_uri"] == "fake://mlops-store-id"
    assert run.outputs["tracking_url"] == "https://mlops-tracking-id.fake"
    pipeline = run.outputs["pipelines"]["diagnosis"]
    assert len(pipeline["version"]) == 16
    assert pipeline["deployed_version"] == pipeline["version"]
    assert (
        run.outputs["endpoints"]["diagnosis"]["url"]
        == "https://mlops-endpoint-diagnosis-id.fake/invocations"
    )


def test_pinned_version_is_deployed_instead_of_the_current_one() -> None:
    pinned = {**STACK, "environment": "dev"}
    pinned["pipelines"] = [{**STACK["pipelines"][0], "version": "0123456789abcdef"}]
    run = run_stack(pinned, registry=fake_registry(), project_dir=REPO)
    (pipeline,) = run.of_type("fake:index:Pipeline")
    assert pipeline.plain_inputs()["version"] == "0123456789abcdef"
    assert run.outputs["pipelines"]["diagnosis"]["deployed_version"] == "0123456789abcdef"
    assert run.outputs["pipelines"]["diagnosis"]["version"] != "0123456789abcdef"


def test_dev_stack_is_not_protected() -> None:
    run = run_stack({**STACK, "environment": "dev"}, registry=fake_registry(), project_dir=REPO)
    assert not any(r.protect or r.retain_on_delete for r in run.registrations)


def test_existing_store_is_adopted_without_children() -> None:
    target = Target(cloud=FAKE_CLOUD, registry=fake_registry())

    def program() -> Any:
        store = ArtifactStore(
            "data",
            ArtifactStoreArgs(
                target=target, existing=ExistingArtifactStore(uri="s3://existing/ml")
            ),
        )
        return store.uri

    run = run_offline(program)
    assert [(r.type, r.name) for r in run.registrations] == [("mlops:index:ArtifactStore", "data")]
    assert run.result == "s3://existing/ml"


def test_spec_and_existing_are_exclusive() -> None:
    target = Target(cloud=FAKE_CLOUD, registry=fake_registry())

    def program() -> None:
        ArtifactStore(
            "data",
            ArtifactStoreArgs(
                target=target,
                spec=ArtifactStoreSpec(),
                existing=ExistingArtifactStore(uri="s3://b"),
            ),
        )

    with pytest.raises(
        SpecValidationError, match="give spec= to create or existing= to adopt, not both"
    ):
        run_offline(program)


def test_components_compose_with_inputs() -> None:
    target = Target(cloud=FAKE_CLOUD, environment="staging", registry=fake_registry())

    def program() -> Any:
        cluster = TrainingCluster(
            "train",
            TrainingClusterArgs(
                target=target, spec=TrainingClusterSpec(name="train", gpu="a100-80gb", gpu_count=8)
            ),
        )
        return pulumi.Output.all(cluster.id, cluster.instance_type, cluster.gpus_per_node)

    run = run_offline(program)
    assert run.result == ["train-id", "fake.a100.8", 8]


def test_options_of_another_model_are_an_error_not_silently_dropped() -> None:
    from pydantic import BaseModel

    from mlops_infra.errors import BackendError
    from mlops_infra.resources import BuildContext

    class Declared(BaseModel):
        size: int = 1

    class Read(BaseModel):
        size: int = 1

    registry = fake_registry()
    flavor = registry.flavor(FAKE_CLOUD, "artifact_store")
    context = BuildContext(
        component=None,
        name="x",
        args=None,
        target=Target(),
        flavor=flavor,
        options=Declared(size=3),
    )  # type: ignore[arg-type]
    assert context.options_as(Declared).size == 3
    with pytest.raises(
        BackendError, match="validated its options as Declared, but its backend reads Read"
    ):
        context.options_as(Read)
    empty = BuildContext(
        component=None, name="x", args=None, target=Target(), flavor=flavor, options=None
    )  # type: ignore[arg-type]
    assert empty.options_as(Read).size == 1


@pytest.mark.parametrize(
    ("options", "where", "message"),
    [
        (
            {"path": 3},
            "options.path",
            "Input should be a valid string (options of flavor local/artifact_store/directory)",
        ),
        (
            {"size": 1},
            "options.size",
            "Extra inputs are not permitted (options of flavor local/artifact_store/directory)",
        ),
    ],
)
def test_options_are_validated_by_one_validator_in_files_and_in_python(
    options: dict[str, Any], where: str, message: str
) -> None:
    """A stack file and a component composed in Python get the same issue for bad options."""
    from mlops_infra.specs.loading import spec_from_config

    with pytest.raises(SpecValidationError) as from_file:
        spec_from_config(
            {"mlops:cloud": "local", "mlops:stack": {"artifact_store": {"options": options}}}
        )
    assert [(i.path, i.message) for i in from_file.value.issues] == [
        (f"mlops:stack.artifact_store.{where}", message)
    ]
    target = Target(cloud="local", environment="dev")

    def program() -> None:
        ArtifactStore(
            "ml", ArtifactStoreArgs(target=target, spec=ArtifactStoreSpec(options=options))
        )

    with pytest.raises(SpecValidationError) as from_python:
        run_offline(program)
    assert [(i.path, i.message) for i in from_python.value.issues] == [(f"ml.{where}", message)]


def test_a_flavor_without_options_refuses_them_in_python_as_in_files() -> None:
    target = Target(cloud=FAKE_CLOUD, environment="dev", registry=fake_registry())

    def program() -> None:
        ArtifactStore(
            "ml", ArtifactStoreArgs(target=target, spec=ArtifactStoreSpec(options={"a": 1}))
        )

    with pytest.raises(SpecValidationError) as raised:
        run_offline(program)
    assert [(i.path, i.message) for i in raised.value.issues] == [
        ("ml.options", "flavor fake/artifact_store/memory takes no options; got a")
    ]


def test_a_tracking_server_composed_in_python_builds_its_effective_spec() -> None:
    """The component resolves ``auth`` once (tier default) and its backend builds that."""
    from mlops_infra import TrackingServer, TrackingServerArgs, TrackingServerSpec

    target = Target(cloud=FAKE_CLOUD, environment="staging", registry=fake_registry())

    def program() -> None:
        store = ArtifactStore("ml", ArtifactStoreArgs(target=target, spec=ArtifactStoreSpec()))
        TrackingServer(
            "ml-tracking",
            TrackingServerArgs(target=target, spec=TrackingServerSpec(), store=store.ref),
        )

    run = run_offline(program)
    (server,) = run.of_type("fake:index:TrackingServer")
    assert server.plain_inputs()["auth"] is True


def test_the_endpoint_owns_its_gate_and_alias(run: Any) -> None:
    (endpoint,) = run.of_type("fake:index:Endpoint")
    gate = run.named("mlops-endpoint-diagnosis-gate")
    alias = run.named("mlops-endpoint-diagnosis-alias")
    assert gate.inputs["reevaluate"] is True  # not a preview: asks the registry again
    assert gate.inputs["gate"]["conditions"][0]["threshold"] == 0.9
    assert (alias.inputs["model"], alias.inputs["alias"]) == ("diagnosis", "champion")
    # The alias moves only once the deployment (and the decision) are done.
    assert set(alias.depends_on) >= {endpoint.urn, gate.urn}


def test_a_registry_where_nothing_passed_leaves_the_endpoint_pending(run: Any) -> None:
    # The mocks echo inputs: the gate serves nothing, as with an empty registry.
    endpoint = run.outputs["endpoints"]["diagnosis"]
    assert endpoint["status"] == "pending"
    assert endpoint["model_version"] is None
    assert run.named("mlops-endpoint-diagnosis-alias").inputs.get("version") is None
