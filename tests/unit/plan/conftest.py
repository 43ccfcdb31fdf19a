"""Fixtures for the plan tests: the churn fixture project planned at its base and head."""

from __future__ import annotations

import pytest

from mlops_infra.plan import Plan
from mlops_infra.registry import Registry
from tests.unit.plan.planfix import offline_registry, plan_churn


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The local + fake registry."""
    return offline_registry()


@pytest.fixture(scope="session")
def base_plan() -> Plan:
    """The churn fixture planned at its base commit."""
    return plan_churn("base")


@pytest.fixture(scope="session")
def head_plan() -> Plan:
    """The churn fixture planned at its head commit."""
    return plan_churn("head")
