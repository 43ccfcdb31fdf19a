"""Promotion gates: which model version an endpoint serves, decided at ``pulumi up``."""

from mlops_infra.gates.alias import AliasInputs, ModelAlias
from mlops_infra.gates.decision import (
    PIPELINE_VERSION_TAG,
    Check,
    GateDecision,
    ModelVersionInfo,
    Outcome,
    describe_decision,
    evaluate_gate,
)
from mlops_infra.gates.resource import DecisionInputs, PromotionDecision

__all__ = [
    "PIPELINE_VERSION_TAG",
    "AliasInputs",
    "Check",
    "DecisionInputs",
    "GateDecision",
    "ModelAlias",
    "ModelVersionInfo",
    "Outcome",
    "PromotionDecision",
    "describe_decision",
    "evaluate_gate",
]
