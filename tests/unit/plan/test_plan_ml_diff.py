"""ML changes in plain words, from the ``ml`` sections of two plans."""

from __future__ import annotations

from typing import Any

from mlops_infra.plan import Plan, StackFacts
from mlops_infra.plan.facts import LimitsFact
from mlops_infra.plan.ml_diff import ml_changes, short_version

V1, V2 = "3f2a1b2c3d4e5f60", "9c1d2e3f40516273"


def _plan(
    ml: dict[str, Any], facts: StackFacts | None = None, secrets: dict[str, str] | None = None
) -> Plan:
    return Plan(
        project="mlops",
        stack="prod",
        facts=facts or StackFacts(),
        resources=(),
        ml=ml,
        secret_config=secrets or {},
    )


def _pipeline(version: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": version,
        "deployed_version": version,
        "model_name": "churn",
        "schedule": None,
        "steps": {
            "train": {
                "component": "churn.train",
                "depends_on": [],
                "cluster": "gpu",
                "nodes": 1,
                "image": None,
                "parameters": {"c": 1},
                "files": ["churn/train.py"],
            }
        },
        "code": {"churn/train.py": "aaa"},
        "data": {"customers": {"uri": "data/c.csv", "hash": "sha256:1"}},
    }
    data.update(extra)
    return data


def _endpoint(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model": "churn",
        "alias": "champion",
        "model_version": None,
        "gate": {
            "conditions": [{"metric": "accuracy", "op": ">=", "threshold": 0.9}],
            "beat_champion": None,
            "passed_in": [],
        },
        "gpu": None,
        "gpu_count": 0,
        "instance_type": None,
        "min_replicas": 2,
        "max_replicas": 4,
        "canary_percent": None,
        "public": False,
    }
    data.update(extra)
    return data


def _texts(base: Plan, head: Plan) -> list[str]:
    return [change.text() for change in ml_changes(base, head)]


def test_short_version() -> None:
    assert short_version(V1) == "3f2a1b2c…"
    assert short_version("abc") == "abc"


def test_pipeline_code_parameters_data_and_schedule() -> None:
    step = dict(_pipeline(V1)["steps"]["train"], parameters={"c": 2, "lr": 0.1})
    head = _pipeline(
        V2,
        steps={"train": step},
        code={"churn/train.py": "bbb"},
        data={"customers": {"uri": "data/c.csv", "hash": "sha256:2"}},
        schedule="0 3 * * *",
    )
    assert _texts(
        _plan({"pipelines": {"churn": _pipeline(V1)}}), _plan({"pipelines": {"churn": head}})
    ) == [
        "pipeline `churn` `3f2a1b2c…` → `9c1d2e3f…`: component `churn.train` of step `train` "
        "changed: `churn/train.py`; step `train` parameter `c`: 1 → 2; step `train` parameter "
        "`lr` added: 0.1; data `customers` changed; schedule: unset → 0 3 * * *"
    ]


def test_pipeline_pinned_to_an_older_version() -> None:
    head = _pipeline(V2, deployed_version=V1)
    text = _texts(
        _plan({"pipelines": {"churn": _pipeline(V2)}}), _plan({"pipelines": {"churn": head}})
    )
    assert text == [
        "pipeline `churn`: deploys pinned version `3f2a1b2c…` (rollback: nothing is retrained)"
    ]


def test_added_and_removed_objects() -> None:
    base = _plan({"pipelines": {"old": _pipeline(V1)}, "clusters": {}})
    head = _plan(
        {
            "pipelines": {"new": _pipeline(V2)},
            "endpoints": {"churn": _endpoint()},
            "clusters": {
                "gpu": {"gpu": "h100", "gpu_count": 8, "max_nodes": 2, "min_nodes": 0, "spot": True}
            },
        }
    )
    assert _texts(base, head) == [
        "pipeline `new` added (version `9c1d2e3f…`)",
        "pipeline `old` removed",
        "endpoint `churn` added: serves `churn` alias `champion`, gate `accuracy >= 0.9`",
        "cluster `gpu` added (8 x h100, up to 2 nodes)",
    ]


def test_endpoint_changes() -> None:
    head = _endpoint(
        alias="challenger",
        model_version=3,
        public=True,
        min_replicas=1,
        canary_percent=10,
        gate={
            "conditions": [
                {"metric": "accuracy", "op": ">=", "threshold": 0.95},
                {"metric": "latency_ms", "op": "<=", "threshold": 80},
            ],
            "beat_champion": None,
            "passed_in": ["staging"],
        },
    )
    texts = _texts(_plan({"endpoints": {"e": _endpoint()}}), _plan({"endpoints": {"e": head}}))
    assert texts == [
        "endpoint `e`: follows alias `challenger` (was `champion`); pinned to model version 3; "
        "gate `accuracy >= 0.9` → `accuracy >= 0.95`; gate condition `latency_ms <= 80` added; "
        "gate requires passing in `staging` (was nothing); replicas 2-4 → 1-4; now PUBLIC; "
        "canary: unset% → 10%"
    ]


def test_gate_removed() -> None:
    texts = _texts(
        _plan({"endpoints": {"e": _endpoint()}}), _plan({"endpoints": {"e": _endpoint(gate=None)}})
    )
    assert texts == ["endpoint `e`: gate removed: any registered version will be served"]


def test_job_version_and_component() -> None:
    job = {
        "version": V1,
        "component": "a.train",
        "output_model": "m",
        "parameters": {},
        "code": {"a/train.py": "1"},
        "data": {},
    }
    head = dict(job, version=V2, code={"a/train.py": "2"})
    assert _texts(_plan({"jobs": {"j": job}}), _plan({"jobs": {"j": head}})) == [
        "job `j` `3f2a1b2c…` → `9c1d2e3f…`: component `a.train` changed: `a/train.py`"
    ]


def test_stack_limits_and_secrets() -> None:
    base = _plan({}, StackFacts(limits=LimitsFact(max_total_gpus=64)), {"mlops:pw": "sha256:1"})
    head = _plan(
        {},
        StackFacts(limits=LimitsFact(max_total_gpus=16)),
        {"mlops:pw": "sha256:2", "mlops:new": "set"},
    )
    assert _texts(base, head) == [
        "stack `prod`: max total GPUs: 64 → 16",
        "secret `mlops:new` added (value not shown)",
        "secret `mlops:pw` changed (value not shown)",
    ]
