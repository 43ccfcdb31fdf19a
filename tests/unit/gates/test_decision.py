"""Promotion decisions, table-driven: which version is served, and why."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.gates import GateDecision, ModelVersionInfo, evaluate_gate
from mlops_infra.specs import PromotionGate

V1 = ModelVersionInfo("1", {"accuracy": 0.90, "latency_ms": 40}, {"mlops.pipeline_version": "aaaa"})
V2 = ModelVersionInfo("2", {"accuracy": 0.95, "latency_ms": 45}, {"mlops.pipeline_version": "bbbb"})
V3_WORSE = ModelVersionInfo("3", {"accuracy": 0.85}, {"mlops.pipeline_version": "cccc"})
NO_LINEAGE = ModelVersionInfo("4", {"accuracy": 0.99}, {})

THRESHOLD = {"conditions": [{"metric": "accuracy", "op": ">=", "threshold": 0.9}]}
BEAT = {"beat_champion": {"metric": "accuracy", "min_improvement": 0.01}}
STAGING = {"passed_in": ["staging"]}


def _gate(**fields: Any) -> PromotionGate:
    return PromotionGate.model_validate(fields)


@pytest.mark.parametrize(
    ("gate", "candidate", "champion", "evidence", "outcome", "served"),
    [
        (None, V1, None, {}, "promoted", "1"),
        (None, None, None, {}, "no-candidate", None),
        (None, None, V1, {}, "no-candidate", "1"),
        (_gate(**THRESHOLD), V1, None, {}, "promoted", "1"),
        (_gate(**THRESHOLD), V1, V1, {}, "unchanged", "1"),
        (_gate(**THRESHOLD), V3_WORSE, None, {}, "undeployed", None),
        (_gate(**THRESHOLD), V3_WORSE, V2, {}, "kept", "2"),
        (_gate(**BEAT), V2, V1, {}, "promoted", "2"),
        (_gate(**BEAT), V2, None, {}, "promoted", "2"),
        (
            _gate(beat_champion={"metric": "accuracy", "min_improvement": 0.1}),
            V2,
            V1,
            {},
            "kept",
            "1",
        ),
        (
            _gate(beat_champion={"metric": "latency_ms", "higher_is_better": False}),
            V2,
            V1,
            {},
            "kept",
            "1",
        ),
        (_gate(**BEAT), V1, V2, {}, "promoted", "1"),  # a rollback skips the comparison
        (_gate(**STAGING), V2, V1, {"staging": ["bbbb"]}, "promoted", "2"),
        (_gate(**STAGING), V2, V1, {"staging": ["aaaa"]}, "kept", "1"),
        (_gate(**STAGING), V2, None, {}, "undeployed", None),
        (_gate(**STAGING), NO_LINEAGE, None, {"staging": ["x"]}, "undeployed", None),
        (_gate(conditions=[{"metric": "f1", "threshold": 0.5}]), V2, V1, {}, "kept", "1"),
    ],
)
def test_decisions(
    gate: PromotionGate | None,
    candidate: ModelVersionInfo | None,
    champion: ModelVersionInfo | None,
    evidence: dict[str, list[str]],
    outcome: str,
    served: str | None,
) -> None:
    decision = evaluate_gate(gate, candidate, champion, evidence)
    assert (decision.outcome, decision.served) == (outcome, served)


def test_a_failing_gate_explains_itself() -> None:
    gate = _gate(
        conditions=[{"metric": "accuracy", "threshold": 0.9}, {"metric": "f1", "threshold": 0.5}]
    )
    decision = evaluate_gate(gate, V3_WORSE, V2)
    assert decision.reason == (
        "version 3 failed the gate (accuracy >= 0.9: accuracy = 0.85; "
        "f1 >= 0.5: metric not logged by the run (logged: accuracy)); version 2 stays served"
    )
    output = decision.as_output()
    assert output["outcome"] == "kept"
    assert output["metrics"] == {"accuracy": 0.85}
    assert [c["passed"] for c in output["checks"]] == [False, False]


def test_environment_evidence_is_named() -> None:
    decision = evaluate_gate(_gate(**STAGING), V2, V1, {"staging": ["aaaa"]})
    assert "pipeline version bbbb never passed in staging (passed there: aaaa)" in decision.reason


def test_rollback_is_recorded() -> None:
    decision: GateDecision = evaluate_gate(_gate(**BEAT), V1, V2)
    (check,) = decision.checks
    assert check.passed is None
    assert check.detail == "rollback to version 1 from 2: comparison skipped"


def test_registry_errors_other_than_missing_stop_the_gate() -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST

    from mlops_infra.gates.registry_client import RegistryClient

    class Failing:
        def get_model_version_by_alias(self, model: str, alias: str) -> object:
            raise MlflowException("unauthorized", error_code=PERMISSION_DENIED)

        def get_model_version(self, model: str, version: str) -> object:
            raise MlflowException("gone", error_code=RESOURCE_DOES_NOT_EXIST)

    client = RegistryClient.__new__(RegistryClient)
    client._client = Failing()
    assert client.load("m", "1") is None  # a missing version is an answer
    with pytest.raises(MlflowException, match="unauthorized"):
        client.alias_version("m", "champion")  # an auth failure is not "no champion"
