"""Pure logic of the GCP backend: labels, names, lifecycle, traffic, workflows, step contexts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.backends.gcp._cloudrun import parse_service_url
from mlops_infra.backends.gcp._naming import gcp_labels, label_value, physical_name
from mlops_infra.backends.gcp._network import private_subnet_range
from mlops_infra.backends.gcp._revisions import plan_revision, traffic_targets
from mlops_infra.backends.gcp._vertex import Machine, custom_job_body
from mlops_infra.backends.gcp._workflow import CompiledStep, workflow_definition
from mlops_infra.backends.gcp.artifact_store import lifecycle_rules
from mlops_infra.backends.gcp.container_entry import step_context
from mlops_infra.backends.gcp.training_cluster import gke_accelerator
from mlops_infra.errors import BackendError
from mlops_infra.resources import ComputeRef
from mlops_infra.specs import ArtifactStoreSpec, LifecycleRule

LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"managed-by": "mlops-infra"}, {"managed-by": "mlops-infra"}),
        ({"Team": "ML Platform"}, {"team": "ml_platform"}),
        ({"cost.center": "R&D/42"}, {"cost_center": "r_d_42"}),
        ({"9lives": "x"}, {"k9lives": "x"}),
        ({"owner": "Jane@Example.com"}, {"owner": "jane_example_com"}),
        ({"empty": ""}, {"empty": ""}),
    ],
)
def test_tags_become_valid_gcp_labels(tags: dict[str, str], expected: dict[str, str]) -> None:
    assert gcp_labels(tags) == expected


def test_long_label_values_are_cut_with_a_hash_and_stay_distinct() -> None:
    first, second = label_value("a" * 80 + "1"), label_value("a" * 80 + "2")
    assert len(first) == 63
    assert LABEL_VALUE.fullmatch(first)
    assert first != second


@pytest.mark.parametrize(
    "tags",
    [
        {"mlops-stack": "gcp-dev", "mlops-component": "mlops-endpoint-diagnosis"},
        {"A" * 100: "B" * 100, "x:y/z": "v=1+2"},
    ],
)
def test_every_converted_label_is_valid(tags: dict[str, str]) -> None:
    for key, value in gcp_labels(tags).items():
        assert LABEL.fullmatch(key), key
        assert LABEL_VALUE.fullmatch(value), value


@pytest.mark.parametrize(
    ("base", "max_length", "salt"),
    [
        ("mlops-tracking", 40, "dev"),
        ("mlops-pipeline-a-very-long-pipeline-name-indeed", 30, "prod"),
        ("9-starts-with-a-digit", 63, ""),
        ("Upper_Case.Name", 63, "s"),
    ],
)
def test_physical_names_are_dns_labels_within_the_limit(
    base: str, max_length: int, salt: str
) -> None:
    name = physical_name(base, max_length=max_length, salt=salt)
    assert len(name) <= max_length
    assert re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", name), name


def test_physical_names_are_stable_and_salted_by_stack() -> None:
    dev = physical_name("mlops-tracking", max_length=40, salt="dev")
    assert dev == physical_name("mlops-tracking", max_length=40, salt="dev")
    assert dev != physical_name("mlops-tracking", max_length=40, salt="prod")
    assert dev.startswith("mlops-tracking-")


def test_private_subnet_takes_the_first_half_of_the_range() -> None:
    assert private_subnet_range("10.40.0.0/16") == "10.40.0.0/17"
    assert private_subnet_range("10.0.0.0/24") == "10.0.0.0/24"


def test_gke_accelerator_names() -> None:
    assert gke_accelerator("NVIDIA_TESLA_T4") == "nvidia-tesla-t4"
    assert gke_accelerator("NVIDIA_A100_80GB") == "nvidia-a100-80gb"
    assert gke_accelerator("NVIDIA_L4") == "nvidia-l4"


def test_cloud_run_urls_parse_and_others_are_refused() -> None:
    assert parse_service_url("https://mlops-tracking-1a2b3c-424242.europe-west4.run.app") == (
        "mlops-tracking-1a2b3c",
        "europe-west4",
    )
    with pytest.raises(BackendError, match="tracking_invoker: false"):
        parse_service_url("https://mlflow.internal.example.com")


def _rule(rule: Any) -> tuple[Any, ...]:
    condition = rule.condition
    return (
        rule.action.type,
        condition.age,
        condition.days_since_noncurrent_time,
        condition.matches_prefixes,
        condition.with_state,
    )


def test_lifecycle_rules_expire_by_prefix_and_delete_noncurrent_versions() -> None:
    spec = ArtifactStoreSpec(
        lifecycle=(
            LifecycleRule(name="tmp", prefix="tmp/", expire_after_days=7),
            LifecycleRule(name="old", noncurrent_after_days=30),
        ),
        noncurrent_version_days=90,
    )
    assert [_rule(r) for r in lifecycle_rules(spec, versioning=True)] == [
        ("Delete", 7, None, ["tmp/"], "LIVE"),
        ("Delete", None, 30, None, "ARCHIVED"),
        ("Delete", None, 90, None, "ARCHIVED"),
        ("AbortIncompleteMultipartUpload", 7, None, None, None),
    ]


def test_noncurrent_rules_are_left_out_without_versioning() -> None:
    spec = ArtifactStoreSpec(lifecycle=(LifecycleRule(name="old", noncurrent_after_days=30),))
    assert [_rule(r)[0] for r in lifecycle_rules(spec, versioning=False)] == [
        "AbortIncompleteMultipartUpload"
    ]


@pytest.mark.parametrize(
    ("revision", "stable", "canary", "expected"),
    [
        ("svc-00002", "svc-00001", 10, [("svc-00002", 10), ("svc-00001", 90)]),
        ("svc-00002", None, 10, [(None, 100)]),
        ("svc-00002", "svc-00001", None, [(None, 100)]),
        ("svc-00002", "svc-00002", 10, [(None, 100)]),
        (None, None, 25, [(None, 100)]),
    ],
)
def test_traffic_split(
    revision: str | None,
    stable: str | None,
    canary: int | None,
    expected: list[tuple[str | None, int]],
) -> None:
    split = traffic_targets(revision, stable, canary)
    assert [(t.get("revision"), t["percent"]) for t in split] == expected
    assert sum(t["percent"] for t in split) == 100
    assert all(
        t["type"]
        == (
            "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
            if t.get("revision") is None
            else "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
        )
        for t in split
    )


def test_revision_plan_names_a_revision_per_template_and_remembers_the_stable_one() -> None:
    first = {"service": "svc", "digest": "d1", "version": "1"}
    assert plan_revision(None, first) == (1, "svc-00001", None)
    olds = {**first, "serial": 1, "revision": "svc-00001", "stable_revision": None}
    # Same template: nothing changes.
    assert plan_revision(olds, first) == (1, "svc-00001", None)
    # A new model version: a new revision; the previous one becomes stable.
    second = {"service": "svc", "digest": "d2", "version": "2"}
    assert plan_revision(olds, second) == (2, "svc-00002", "svc-00001")
    # A settings change while the canary runs keeps the stable revision.
    olds2 = {**second, "serial": 2, "revision": "svc-00002", "stable_revision": "svc-00001"}
    third = {"service": "svc", "digest": "d3", "version": "2"}
    assert plan_revision(olds2, third) == (3, "svc-00003", "svc-00001")
    # Nothing served before: no stable revision.
    empty = {
        "service": "svc",
        "digest": "d0",
        "version": None,
        "serial": 1,
        "revision": "svc-00001",
    }
    assert plan_revision(empty, second) == (2, "svc-00002", None)


def test_machine_follows_the_cluster_and_the_job_can_override_spot() -> None:
    cluster = ComputeRef(
        name="gpu",
        id="vertex/europe-west4/gpu",
        gpu="a100-80gb",
        gpus_per_node=8,
        instance_type="a2-ultragpu-8g",
        accelerator="NVIDIA_A100_80GB",
        max_nodes=4,
        spot=True,
    )
    machine = Machine.of(cluster, nodes=2, spot=None, cpu_machine_type="n1-standard-8")
    assert machine.machine_spec() == {
        "machineType": "a2-ultragpu-8g",
        "acceleratorType": "NVIDIA_A100_80GB",
        "acceleratorCount": 8,
    }
    assert (machine.replicas, machine.spot) == (2, True)
    assert not Machine.of(cluster, nodes=1, spot=False, cpu_machine_type="x").spot
    cpu = Machine.of(None, nodes=1, spot=None, cpu_machine_type="n1-standard-8")
    assert cpu.machine_spec() == {"machineType": "n1-standard-8"}


def test_custom_job_body_has_a_chief_and_a_worker_pool() -> None:
    machine = Machine(
        machine_type="g2-standard-8",
        accelerator="NVIDIA_L4",
        accelerator_count=1,
        replicas=3,
        spot=True,
    )
    body = custom_job_body(
        display_name="train-0123456789abcdef",
        machine=machine,
        image="europe-west4-docker.pkg.dev/p/r/mlops-runtime:1",
        env={"B": "2", "A": "1"},
        service_account="runner@p.iam.gserviceaccount.com",
        timeout_s=7200,
        output_uri="gs://bucket/jobs/train/v/output",
        network=None,
        labels={"managed-by": "mlops-infra"},
    )
    pools = body["jobSpec"]["workerPoolSpecs"]
    assert [p["replicaCount"] for p in pools] == [1, 2]
    assert pools[0]["containerSpec"]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
    ]
    assert pools[0]["containerSpec"]["command"] == [
        "python",
        "-m",
        "mlops_infra.backends.gcp.container_entry",
    ]
    assert body["jobSpec"]["scheduling"] == {"timeout": "7200s", "strategy": "SPOT"}
    assert body["jobSpec"]["enableWebAccess"] is False
    assert "network" not in body["jobSpec"]


def test_workflow_runs_steps_in_order_with_retries() -> None:
    steps = [
        CompiledStep(name="featurize", body={"displayName": "f"}, max_attempts=1),
        CompiledStep(name="train-gpu", body={"displayName": "t"}, max_attempts=3),
    ]
    definition = workflow_definition(
        steps, region="europe-west4", version="abc", poll_interval_s=30
    )
    main = definition["main"]["steps"]
    assert [next(iter(s)) for s in main] == ["init", "step_featurize", "step_train_gpu", "done"]
    call = main[2]["step_train_gpu"]
    assert call["call"] == "run_job"
    assert call["args"]["max_attempts"] == 3
    assert call["args"]["region"] == "europe-west4"
    assert call["args"]["body"] == {"displayName": "t"}
    run_job = definition["run_job"]
    assert run_job["params"] == ["project", "region", "body", "max_attempts"]
    wait = next(s for s in run_job["steps"] if "wait" in s)
    assert wait["wait"]["args"] == {"seconds": 30}
    submit = next(s for s in run_job["steps"] if "submit" in s)
    assert submit["submit"]["args"]["auth"] == {"type": "OAuth2"}


def test_step_context_reads_upstream_outputs_of_the_same_execution(tmp_path: Path) -> None:
    step = {
        "pipeline": "diagnosis",
        "step": "train",
        "version": "0123456789abcdef",
        "component": "diagnosis.train",
        "model_name": "diagnosis",
        "params": {"c": 1},
        "data": {"breast_cancer": "/gcs/b/pipelines/diagnosis/v/data/breast_cancer/x.csv"},
        "inputs_from": ["featurize"],
        "runs_dir": str(tmp_path),
        "tags": {"mlops.pipeline_version": "0123456789abcdef"},
        "gpus": 2,
    }
    ctx = step_context(step, "exec-1", "run-9")
    assert ctx.run_id == "run-9"
    assert ctx.inputs == {"featurize": str(tmp_path / "exec-1" / "featurize")}
    assert ctx.output_dir == str(tmp_path / "exec-1" / "train")
    assert ctx.gpus == "0,1"
    assert ctx.params == {"c": 1}
    # The execution id lets `up` find the model version this execution registers.
    assert ctx.tags == {
        "mlops.pipeline_version": "0123456789abcdef",
        "mlops.workflow_execution": "exec-1",
    }
