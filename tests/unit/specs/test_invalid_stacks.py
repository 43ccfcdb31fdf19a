"""Every kind of mistake in a stack file is rejected with its config path and what is allowed,
and a program run on it registers nothing."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from mlops_infra.errors import SpecValidationError
from mlops_infra.offline import EchoMocks, RecordingMonitor, run_offline
from mlops_infra.program import main
from mlops_infra.specs.loading import spec_from_config
from mlops_infra.testing import fake_registry

STEP = {"name": "train", "component": "diagnosis.train"}
PIPELINE = {"name": "p", "steps": [STEP]}


def _with(**stack: Any) -> dict[str, Any]:
    return {"mlops:cloud": "fake", "mlops:environment": "dev", "mlops:stack": stack}


def _cloud(cloud: str, **stack: Any) -> dict[str, Any]:
    return {"mlops:cloud": cloud, "mlops:environment": "dev", "mlops:stack": stack}


def _pipeline(**fields: Any) -> dict[str, Any]:
    return _with(pipelines=[{**PIPELINE, **fields}])


def _step(**fields: Any) -> dict[str, Any]:
    return _with(pipelines=[{"name": "p", "steps": [{**STEP, **fields}]}])


def _cluster(**fields: Any) -> dict[str, Any]:
    return _with(clusters=[{"name": "gpu", **fields}])


def _endpoint(**fields: Any) -> dict[str, Any]:
    return _with(pipelines=[PIPELINE], endpoints=[{"name": "e", "model": "p", **fields}])


def _gate(**fields: Any) -> dict[str, Any]:
    return _endpoint(gate=fields)


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (id, config, path of the issue, fragment of its message)
    (
        "unknown cloud",
        {"mlops:cloud": "mars"},
        "mlops:cloud",
        "'mars' is not a known cloud; known:",
    ),
    ("cloud inside stack", _with(cloud="aws"), "mlops:stack.cloud", "own config key mlops:cloud"),
    (
        "bad environment name",
        {"mlops:cloud": "fake", "mlops:environment": "Prod!"},
        "mlops:environment",
        "is not a valid name",
    ),
    (
        "unknown top-level key",
        _with(artefact_store={}),
        "mlops:stack.artefact_store",
        "unknown key 'artefact_store'; allowed: artifact_store,",
    ),
    ("stack not a mapping", {"mlops:stack": [1, 2]}, "mlops:stack", "must be a mapping"),
    ("wrong spec version", _with(spec_version=2), "mlops:stack.spec_version", "allowed: 1"),
    (
        "unknown tier",
        _with(tier="prodution"),
        "mlops:stack.tier",
        "allowed: 'local', 'development'",
    ),
    ("bad tag key", _with(tags={"bad key!": "x"}), "mlops:stack.tags", "tag key 'bad key!'"),
    (
        "unknown GPU",
        _cluster(gpu="a10"),
        "mlops:stack.clusters[gpu].gpu",
        "'a10' is not a known GPU; known: a100-40gb",
    ),
    (
        "GPU not offered on cloud",
        _cluster(gpu="h100"),
        "mlops:stack.clusters[gpu].gpu",
        "'h100' is not offered on fake for training; offered: a100-80gb (8), t4 (1, 2, 4)",
    ),
    (
        "impossible GPU count",
        _cluster(gpu="t4", gpu_count=3),
        "mlops:stack.clusters[gpu].gpu_count",
        "no fake training instance has 3 x 't4'; offered counts: 1, 2, 4",
    ),
    (
        "impossible GPU count on aws",
        _cloud("aws", clusters=[{"name": "g", "gpu": "l4", "gpu_count": 2}]),
        "mlops:stack.clusters[g].gpu_count",
        "offered counts: 1, 4, 8",
    ),
    (
        "GPU not offered on gcp",
        _cloud("gcp", clusters=[{"name": "g", "gpu": "a10g"}]),
        "mlops:stack.clusters[g].gpu",
        "'a10g' is not offered on gcp",
    ),
    (
        "zero GPUs",
        _cluster(gpu="t4", gpu_count=0),
        "mlops:stack.clusters[gpu].gpu_count",
        "greater than or equal to 1",
    ),
    (
        "gpu_count without gpu",
        _cluster(gpu_count=2),
        "mlops:stack.clusters[gpu].gpu_count",
        "gpu_count needs gpu",
    ),
    (
        "gpu and instance type",
        _cluster(gpu="t4", instance_type="m5.large"),
        "mlops:stack.clusters[gpu].instance_type",
        "not both",
    ),
    (
        "negative disk",
        _cluster(disk_gib=-5),
        "mlops:stack.clusters[gpu].disk_gib",
        "-5 is out of range",
    ),
    (
        "min above max nodes",
        _cluster(min_nodes=3, max_nodes=2),
        "mlops:stack.clusters[gpu].min_nodes",
        "min_nodes (3) is greater than max_nodes (2)",
    ),
    (
        "wrong type",
        _cluster(max_nodes="many"),
        "mlops:stack.clusters[gpu].max_nodes",
        "valid integer",
    ),
    (
        "unknown cluster key",
        _cluster(gpuu="t4"),
        "mlops:stack.clusters[gpu].gpuu",
        "unknown key 'gpuu'; allowed: disk_gib, existing,",
    ),
    (
        "duplicate cluster",
        _with(clusters=[{"name": "a"}, {"name": "a"}]),
        "mlops:stack.clusters[1].name",
        "duplicate cluster name 'a' (first defined at index 0)",
    ),
    (
        "bad cluster name",
        _cluster(name="GPU_1"),
        "mlops:stack.clusters[GPU_1].name",
        "not a valid name",
    ),
    (
        "unknown flavor",
        _with(artifact_store={"flavor": "s4"}),
        "mlops:stack.artifact_store.flavor",
        "'s4' is not a artifact_store flavor on fake; available: memory",
    ),
    (
        "options of a flavor without options",
        _with(tracking={"options": {"port": 1}}),
        "mlops:stack.tracking.options",
        "takes no options",
    ),
    (
        "existing mixed with creation",
        _with(artifact_store={"existing": {"uri": "s3://b"}, "versioning": False}),
        "mlops:stack.artifact_store.existing",
        "cannot be combined with creation fields; remove 'versioning'",
    ),
    (
        "bad existing URI",
        _with(artifact_store={"existing": {"uri": "ftp://b"}}),
        "mlops:stack.artifact_store.existing.uri",
        "allowed schemes: s3://",
    ),
    (
        "object lock without versioning",
        _with(artifact_store={"versioning": False, "object_lock_days": 3}),
        "mlops:stack.artifact_store.object_lock_days",
        "needs versioning",
    ),
    (
        "empty lifecycle rule",
        _with(artifact_store={"lifecycle": [{"name": "x"}]}),
        "mlops:stack.artifact_store.lifecycle[x]",
        "needs expire_after_days or noncurrent_after_days",
    ),
    (
        "old MLflow",
        _with(tracking={"mlflow_version": "2.9"}),
        "mlops:stack.tracking.mlflow_version",
        "allowed: 3.11 or later",
    ),
    (
        "bad secret key name",
        _with(tracking={"admin_password_config_key": "has space"}),
        "mlops:stack.tracking.admin_password_config_key",
        "is not a Pulumi config key",
    ),
    (
        "dependency cycle",
        _with(
            pipelines=[
                {
                    "name": "p",
                    "steps": [
                        {"name": "a", "component": "x.a", "depends_on": ["b"]},
                        {"name": "b", "component": "x.b", "depends_on": ["a"]},
                    ],
                }
            ]
        ),
        "mlops:stack.pipelines[p].steps[a].depends_on",
        "dependency cycle: a -> b -> a",
    ),
    (
        "missing step",
        _step(depends_on=["featurise"]),
        "mlops:stack.pipelines[p].steps[train].depends_on[0]",
        "depends on 'featurise', which is not a step of this pipeline; steps: train",
    ),
    (
        "self dependency",
        _step(depends_on=["train"]),
        "mlops:stack.pipelines[p].steps[train].depends_on[0]",
        "depends on itself",
    ),
    (
        "duplicate step",
        _with(pipelines=[{"name": "p", "steps": [STEP, STEP]}]),
        "mlops:stack.pipelines[p].steps[1].name",
        "duplicate step name 'train'",
    ),
    ("no steps", _pipeline(steps=[]), "mlops:stack.pipelines[p].steps", "at least 1 item"),
    (
        "duplicate pipeline",
        _with(pipelines=[PIPELINE, PIPELINE]),
        "mlops:stack.pipelines[1].name",
        "duplicate pipeline name 'p'",
    ),
    (
        "bad component",
        _step(component="diagnosis/train.py"),
        "mlops:stack.pipelines[p].steps[train].component",
        "not a component reference",
    ),
    (
        "unknown step cluster",
        _step(cluster="gpu"),
        "mlops:stack.pipelines[p].steps[train].cluster",
        "unknown cluster 'gpu'; clusters: none declared",
    ),
    (
        "too many nodes",
        _with(
            clusters=[{"name": "gpu", "max_nodes": 2}],
            pipelines=[{"name": "p", "steps": [{**STEP, "cluster": "gpu", "nodes": 4}]}],
        ),
        "mlops:stack.pipelines[p].steps[train].nodes",
        "4 nodes requested but cluster 'gpu' has max_nodes 2",
    ),
    (
        "bad cron",
        _pipeline(schedule={"cron": "61 * * * *"}),
        "mlops:stack.pipelines[p].schedule.cron",
        "minute 61 is out of range; allowed: 0-59",
    ),
    (
        "short cron",
        _pipeline(schedule={"cron": "0 3 * *"}),
        "mlops:stack.pipelines[p].schedule.cron",
        "has 4 fields; a cron expression has 5",
    ),
    (
        "bad time zone",
        _pipeline(schedule={"cron": "0 3 * * 1", "timezone": "Mars/Olympus"}),
        "mlops:stack.pipelines[p].schedule.timezone",
        "is not an IANA time zone",
    ),
    (
        "source escaping the project",
        _pipeline(source_dir="../elsewhere"),
        "mlops:stack.pipelines[p].source_dir",
        "no '..'",
    ),
    (
        "pinned version not hex",
        _pipeline(version="v1.2"),
        "mlops:stack.pipelines[p].version",
        "12-64 lowercase hex digits",
    ),
    (
        "remote data without version",
        _pipeline(data={"train": {"uri": "s3://bucket/train.csv"}}),
        "mlops:stack.pipelines[p].data.train",
        "needs a version",
    ),
    (
        "unknown data scheme",
        _pipeline(data={"train": {"uri": "ftp://host/x"}}),
        "mlops:stack.pipelines[p].data.train",
        "has scheme 'ftp'",
    ),
    (
        "bad image",
        _step(image="Not An Image"),
        "mlops:stack.pipelines[p].steps[train].image",
        "not a container image reference",
    ),
    (
        "lowercase env var",
        _step(environment_variables={"lower": "x"}),
        "mlops:stack.pipelines[p].steps[train].environment_variables",
        "are not allowed; allowed: [A-Z_]",
    ),
    (
        "duplicate model",
        _with(pipelines=[PIPELINE, {"name": "q", "model_name": "p", "steps": [STEP]}]),
        "mlops:stack.pipelines[q].model_name",
        "model 'p' is already registered by pipeline 'p'",
    ),
    (
        "unknown gate operator",
        _gate(conditions=[{"metric": "accuracy", "op": "=>", "threshold": 0.9}]),
        "mlops:stack.endpoints[e].gate.conditions[0].op",
        "'=>' is not allowed; allowed: '>='",
    ),
    (
        "empty gate",
        _gate(),
        "mlops:stack.endpoints[e].gate",
        "a gate needs at least one of: conditions, beat_champion, passed_in",
    ),
    (
        "condition twice",
        _gate(conditions=[{"metric": "a", "threshold": 1}, {"metric": "a", "threshold": 2}]),
        "mlops:stack.endpoints[e].gate.conditions",
        "given twice",
    ),
    (
        "gate requires own environment",
        _gate(passed_in=["dev"]),
        "mlops:stack.endpoints[e].gate.passed_in",
        "an environment cannot require itself ('dev')",
    ),
    (
        "endpoint of unknown model",
        _with(endpoints=[{"name": "e", "model": "churn"}]),
        "mlops:stack.endpoints[e].model",
        "no pipeline or job in this stack registers model 'churn'",
    ),
    (
        "reserved alias",
        _endpoint(alias="latest"),
        "mlops:stack.endpoints[e].alias",
        "'latest' is reserved",
    ),
    (
        "min replicas above max",
        _endpoint(min_replicas=5, max_replicas=2),
        "mlops:stack.endpoints[e].min_replicas",
        "min_replicas (5) is greater than max_replicas (2)",
    ),
    (
        "canary too large",
        _endpoint(canary_percent=80),
        "mlops:stack.endpoints[e].canary_percent",
        "80 is out of range",
    ),
    (
        "serving GPU not offered",
        _endpoint(gpu="a100-80gb", gpu_count=8),
        "mlops:stack.endpoints[e].gpu",
        "not offered on fake for serving",
    ),
    (
        "duplicate endpoint",
        _with(pipelines=[PIPELINE], endpoints=[{"name": "e", "model": "p"}] * 2),
        "mlops:stack.endpoints[1].name",
        "duplicate endpoint name 'e'",
    ),
    (
        "job on unknown cluster",
        _with(jobs=[{"name": "j", "component": "x.y", "cluster": "big"}]),
        "mlops:stack.jobs[j].cluster",
        "unknown cluster 'big'",
    ),
    (
        "bad network range",
        _with(network={"create": True, "cidr": "8.8.8.0/24"}),
        "mlops:stack.network.cidr",
        "a private range from /16 to /24",
    ),
    (
        "network create and existing",
        _with(network={"create": True, "existing": {"id": "v", "private_subnet_ids": ["s"]}}),
        "mlops:stack.network.existing",
        "not both",
    ),
    (
        "endpoints without a created network",
        _with(network={"endpoints": ["logs"]}),
        "mlops:stack.network.endpoints",
        "applies to a created network; set create: true or remove it",
    ),
    (
        "an endpoint listed twice",
        _with(network={"create": True, "endpoints": ["logs", "logs"]}),
        "mlops:stack.network.endpoints",
        "['logs'] listed more than once",
    ),
]


@pytest.mark.parametrize(
    ("config", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_config_is_rejected_with_path_and_allowed_values(
    config: dict[str, Any], path: str, fragment: str
) -> None:
    with pytest.raises(SpecValidationError) as raised:
        spec_from_config(config, registry=fake_registry(with_plugins=True))
    issues = {issue.path: issue.message for issue in raised.value.issues}
    assert path in issues, f"no issue at {path}; issues: {issues}"
    assert fragment in issues[path]


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("config", "path"), [c[1:3] for c in CASES[:12]], ids=[c[0] for c in CASES[:12]]
)
def test_program_registers_nothing_for_an_invalid_config(config: dict[str, Any], path: str) -> None:
    monitor = RecordingMonitor(EchoMocks())

    def program() -> None:
        main(fake_registry(with_plugins=True))

    values = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in config.items()}
    with pytest.raises(pulumi.RunError) as raised:
        run_offline(program, stack="invalid", config=values, monitor=monitor)
    assert path in str(raised.value)
    assert monitor.registrations == []
