"""Shared helpers of the plan and policy tests: fixture paths, an offline registry, plans."""

from __future__ import annotations

from pathlib import Path

from mlops_infra.backends.local.plugin import register as register_local
from mlops_infra.plan import Plan, plan_stack_file
from mlops_infra.registry import Registry
from mlops_infra.testing.fake import register as register_fake

__all__ = ["CHURN", "FIXTURES", "REPO", "offline_registry", "plan_churn"]

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plan"
CHURN = FIXTURES / "churn"


def offline_registry() -> Registry:
    """A registry with only the local and fake clouds (independent of the cloud SDK backends)."""
    registry = Registry(load_entry_points=False)
    with registry.source("mlops_infra.backends.local.plugin"):
        register_local(registry)
    with registry.source("mlops_infra.testing.fake"):
        register_fake(registry)
    return registry


def plan_churn(side: str, project_dir: Path | None = None) -> Plan:
    """Plans the churn fixture's dev stack at ``side`` (``base`` or ``head``)."""
    root = project_dir or CHURN / side
    return plan_stack_file(
        root / "stacks" / "Pulumi.dev.yaml", project_dir=root, registry=offline_registry()
    )
