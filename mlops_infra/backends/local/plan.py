"""What offline plans and diffs know of the local backends: replacement and stateful types.

The local dynamic providers' ``diff()`` replaces on the inputs listed here; their
directories and MLflow data hold what the stack keeps.

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.local.plugin` points here.
"""

from __future__ import annotations

from types import MappingProxyType

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES"]

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
