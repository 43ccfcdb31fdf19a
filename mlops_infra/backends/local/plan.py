"""What offline plans and diffs know of the local backends: replacement and stateful types.

The local dynamic providers' ``diff()`` replaces on the inputs listed here; their
directories and MLflow data hold what the stack keeps.

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.local.plugin` points here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES", "plan_invokes"]

PLAN_RULES = ProviderRules(
    replaced_on=MappingProxyType(
        {
            "pulumi-python:dynamic/mlops:LocalStoreDirectory": frozenset({"path"}),
            "pulumi-python:dynamic/mlops:LocalMlflowServer": frozenset({"data_dir"}),
        }
    ),
    stateful_types=frozenset(
        {
            "pulumi-python:dynamic/mlops:LocalStoreDirectory",
            "pulumi-python:dynamic/mlops:LocalMlflowServer",
        }
    ),
)
"""The local backend's dynamic providers: what their diff() returns as replaces, what holds data."""


def plan_invokes(region: str | None) -> Mapping[str, Mapping[str, Any]]:
    """The local backends make no provider invokes."""
    del region
    return {}
