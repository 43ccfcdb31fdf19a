"""Promotion gates: which model version an endpoint serves, decided at ``pulumi up``."""

from mlops_infra.gates.decision import (
    PIPELINE_VERSION_TAG,
    Check,
    GateDecision,
    ModelVersionInfo,
    Outcome,
    evaluate_gate,
)
from mlops_infra.gates.resource import DecisionInputs, PromotionDecision

__all__ = [
    "PIPELINE_VERSION_TAG",
    "Check",
    "DecisionInputs",
    "GateDecision",
    "ModelVersionInfo",
    "Outcome",
    "PromotionDecision",
    "evaluate_gate",
]
