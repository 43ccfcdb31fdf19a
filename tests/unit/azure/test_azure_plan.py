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
from mlops_infra.plan.diff import Op, diff_plans
from mlops_infra.plan.model import Plan, PlannedResource
from mlops_infra.policies import Suppression, all_rules, load_suppressions, run_policies
from mlops_infra.specs import StackSpec

Edit = Callable[[dict[str, Any]], None]
SUPPRESSIONS = (
    *load_suppressions(REPO / "stacks" / "policy-suppressions.yaml"),
    # The production variant keeps azure-dev's store options (pipelines upload their code
    # package with the account key), so it carries azure-dev's accepted ST-004.
    Suppression(
        rule="MLOPS-AZURE-ST-004",
        stack="azure-prod",
        resource="mlops-store",
        reason="pipelines upload their code package with the account key (as azure-dev)",
    ),
    # What a private stack's owner records once `up` runs inside the network.
    Suppression(
        rule="MLOPS-AZURE-NET-002",
        stack="azure-prod",
        resource="mlops-tracking",
        reason="deployed by the self-hosted runner in the hub network, zones linked there",
    ),
)


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
    # The registry is private: environment and scoring images build on the cpu cluster.
    data["tracking"] = {"options": {"image_build_compute": "cpu"}}


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


def _violations(plan: Plan) -> list[tuple[str, str]]:
    report = run_policies(plan, all_rules(), SUPPRESSIONS)
    return sorted((f.rule.id, f.resource.name) for f in report.violations)


def test_a_production_stack_without_a_network_is_refused(azure_dev: dict[str, Any]) -> None:
    """Issue 15 item 13: a prod stack without a network was fully public; the
    suppressions file says production disables public access, and now a rule says so."""

    def public_prod(data: dict[str, Any]) -> None:
        data["environment"] = "prod"

    violations = _violations(plan_of(variant(azure_dev, public_prod)))
    assert [v for v in violations if v[0] == "MLOPS-AZURE-NET-001"] == [
        ("MLOPS-AZURE-NET-001", "mlops-registry"),
        ("MLOPS-AZURE-NET-001", "mlops-store"),
        ("MLOPS-AZURE-NET-001", "mlops-tracking"),
        ("MLOPS-AZURE-NET-001", "mlops-vault"),
    ]


def test_the_production_variant_passes_check(azure_dev: dict[str, Any]) -> None:
    assert _violations(plan_of(variant(azure_dev, prod))) == []


def test_azure_dev_passes_check(azure_dev: dict[str, Any]) -> None:
    assert _violations(plan_of(variant(azure_dev, lambda _: None), stack="azure-dev")) == []


def _with_network(data: dict[str, Any]) -> None:
    data["network"] = {"create": True, "cidr": "10.8.0.0/16"}


@pytest.mark.parametrize("direction", ["add", "remove"])
def test_adding_or_removing_a_network_shows_the_workspace_replaced(
    azure_dev: dict[str, Any], direction: str
) -> None:
    """Issue 15 item 8: a network flips the workspace's managed network isolation
    (AllowInternetOutbound <-> Disabled), which Azure does not change in place (managed
    network isolation cannot be turned off once on; computes must go before it is turned
    on: https://learn.microsoft.com/en-us/azure/machine-learning/how-to-managed-network),
    and moves the clusters into (or out of) a subnet, which a compute cluster cannot change
    (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-secure-training-vnet).
    The plan diff shows both as replacements, the workspace a loud (stateful) one."""
    without = plan_of(variant(azure_dev, lambda _: None), stack="azure-dev")
    with_network = plan_of(variant(azure_dev, _with_network), stack="azure-dev")
    base, head = (without, with_network) if direction == "add" else (with_network, without)
    changes = {c.name: c for c in diff_plans(base, head).changes if c.custom}
    workspace = changes["mlops-tracking"]
    assert workspace.op == Op.REPLACE
    assert workspace.replace_reasons == ("managedNetwork.isolationMode",)
    assert workspace in diff_plans(base, head).loud
    for cluster in ("mlops-cluster-cpu", "mlops-cluster-gpu"):
        assert changes[cluster].op == Op.REPLACE, cluster
        assert changes[cluster].replace_reasons == ("properties.properties.subnet",), cluster
    # A same-named workspace or cluster cannot be created beside the old one: the old goes
    # first (in production, protection stops `up` before anything is deleted).
    assert named(head, "mlops-tracking").delete_before_replace
    assert named(head, "mlops-cluster-cpu").delete_before_replace
    # The store, vault and registry only close their public access: updated in place.
    for name in ("mlops-store", "mlops-vault", "mlops-registry"):
        assert changes[name].op == Op.UPDATE, name


def test_a_private_variants_check_names_what_its_deployment_needs(
    azure_dev: dict[str, Any],
) -> None:
    """Issue 15 items 5 and 11: a private stack cannot be deployed from an ordinary runner
    (Blob uploads and the MLflow API are private), and a private registry cannot be used by
    Azure ML's image build service, which then builds on a cluster named by
    image_build_compute (https://learn.microsoft.com/en-us/azure/machine-learning/
    how-to-secure-workspace-vnet#enable-azure-container-registry-acr)."""
    plan = plan_of(variant(azure_dev, _with_network), stack="azure-private")
    report = run_policies(plan, all_rules(), SUPPRESSIONS)
    found = {f.rule.id: f for f in report.violations if f.rule.id.startswith("MLOPS-AZURE-NET")}
    assert sorted(found) == ["MLOPS-AZURE-NET-002", "MLOPS-AZURE-NET-003"]
    assert {f.resource.name for f in found.values()} == {"mlops-tracking"}
    blobs = len([r for r in plan.resources if r.type == "azure-native:storage:Blob"])
    deploy = found["MLOPS-AZURE-NET-002"].outcome.message
    assert f"it uploads {blobs} code package blob(s) to the private storage account" in deploy
    assert "the promotion gate and the registry alias call the workspace's MLflow API" in deploy
    assert "Run it from a runner inside the stack's network" in deploy
    images = found["MLOPS-AZURE-NET-003"].outcome.message
    assert "set tracking.options.image_build_compute to a stack cluster" in images
