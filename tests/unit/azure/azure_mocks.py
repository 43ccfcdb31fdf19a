"""Helpers for the Azure backend tests; the mocks are the library's (used by plans too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_infra.backends.azure.testing import (
    CLIENT_CONFIG,
    SUBSCRIPTION,
    TENANT,
    WORKSPACE_ID,
    AzureMocks,
    principal_id,
)
from mlops_infra.testing import ProgramRun, run_stack

REPO = Path(__file__).resolve().parents[3]
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"


def gate_outputs(served: str | None = "3", previous: str | None = "2") -> dict[str, Any]:
    """Outputs of a promotion decision that promoted ``served`` over ``previous``."""
    outcome = "promoted" if served and served != previous else "unchanged"
    return {
        "served_version": served,
        "decision": {"outcome": outcome, "served": served, "previous": previous, "reason": "r"},
    }


def azure_run(
    spec: Mapping[str, Any], *, gate: Mapping[str, Any] | None = None, stack: str = "test"
) -> ProgramRun:
    """Synthesizes an azure stack under :class:`AzureMocks`."""
    mocks = AzureMocks(outputs={GATE: dict(gate or gate_outputs())}, calls=CLIENT_CONFIG)
    return run_stack({"cloud": "azure", **spec}, project_dir=REPO, mocks=mocks, stack=stack)


# The library's mocks and constants, re-exported: the tests import them from here.
__all__ = [
    "CLIENT_CONFIG",
    "SUBSCRIPTION",
    "TENANT",
    "WORKSPACE_ID",
    "AzureMocks",
    "principal_id",
]
