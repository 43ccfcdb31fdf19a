"""Offline plans of azure-dev and its production and private variants (what `plan` and
`check` run), with azure-native's computed outputs from the cloud's ``plan_outputs``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from azure_mocks import REPO

from mlops_infra import load_stack_file
from mlops_infra.backends.azure.plan import plan_outputs
from mlops_infra.plan.build import plan_stack
from mlops_infra.plan.model import Plan, PlannedResource
from mlops_infra.specs import StackSpec

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def azure_dev() -> dict[str, Any]:
    spec = load_stack_file(REPO / "stacks" / "Pulumi.azure-dev.yaml")
    return spec.model_dump(mode="json", exclude_unset=True)


def variant(base: dict[str, Any], edit: Edit) -> StackSpec:
    data = copy.deepcopy(base)
    edit(data)
    return StackSpec.model_validate(data)


def prod(data: dict[str, Any]) -> None:
    data["environment"] = "prod"
    data["network"] = {"create": True, "cidr": "10.8.0.0/16"}


def plan_of(spec: StackSpec, stack: str = "azure-prod") -> Plan:
    return plan_stack(spec, stack=stack, project_dir=REPO)


def named(plan: Plan, name: str) -> PlannedResource:
    found = [r for r in plan.resources if r.name == name and r.custom]
    assert len(found) == 1, name
    return found[0]


def test_plan_outputs_reshape_identities_the_way_azure_native_returns_them() -> None:
    users = plan_outputs(
        "azure-native:storage:StorageAccount",
        "mlops-store",
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": ["/id/u"]}},
        "westeurope",
    )
    assert users == {"identity": {"type": "UserAssigned", "userAssignedIdentities": {"/id/u": {}}}}
    system = plan_outputs(
        "azure-native:machinelearningservices:Compute",
        "mlops-cluster-cpu",
        {"identity": {"type": "SystemAssigned"}},
        None,
    )
    assert system is not None
    principal = system["identity"]["principalId"]
    assert len(principal) == 36
    assert (
        plan_outputs(
            "azure-native:machinelearningservices:Compute",
            "mlops-cluster-cpu",
            {"identity": {"type": "SystemAssigned"}},
            None,
        )
        == system
    )  # fixed
    identity = plan_outputs(
        "azure-native:managedidentity:UserAssignedIdentity", "mlops-store-identity", {}, None
    )
    assert identity is not None
    assert set(identity) == {"principalId", "clientId"}
    assert plan_outputs("azure-native:keyvault:Vault", "mlops-vault", {}, None) is None
    assert plan_outputs("aws:s3/bucket:Bucket", "b", {"identity": {}}, None) is None


def test_a_production_variant_of_azure_dev_plans(azure_dev: dict[str, Any]) -> None:
    """Issue 15 acceptance: `plan` crashed on a CMK store (its identity list echoed where
    azure-native returns a map)."""
    plan = plan_of(variant(azure_dev, prod))
    account = named(plan, "mlops-store")
    assert account.inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    identity = plan_outputs(
        "azure-native:managedidentity:UserAssignedIdentity", "mlops-store-identity", {}, None
    )
    assert identity is not None
    assert named(plan, "mlops-store-key-access").inputs["principalId"] == identity["principalId"]
