"""What plans and diffs know of the fake cloud: which of its types hold data."""

from __future__ import annotations

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES"]

PLAN_RULES = ProviderRules(
    stateful_types=frozenset(
        {"fake:index:Bucket", "fake:index:TrackingServer", "fake:index:Registry"}
    ),
)
"""The fake cloud's stateful types (its store, tracking server and container registry)."""
