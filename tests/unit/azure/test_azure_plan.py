"""Offline plans of azure-dev and its production and private variants (what `plan` and
`check` run), with azure-native's computed outputs from the cloud's mocks, previewed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from azure_mocks import REPO

from mlops_infra import load_stack_file
from mlops_infra.backends.azure.testing import AzureMocks
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


def plan_outputs(
    typ: str, name: str, inputs: dict[str, Any], region: str | None
) -> dict[str, Any] | None:
    """What a plan's mocks compute for one resource (the cloud's mocks, previewed)."""
    computed = AzureMocks(region, applied=False).previewed(typ, name, inputs)
    return None if computed is None else dict(computed)


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
    assert (
        "Either list the runner's fixed public egress addresses in "
        "network.options.deployer_ip_ranges" in deploy
    )
    assert "or run it from a runner inside the stack's network" in deploy
    images = found["MLOPS-AZURE-NET-003"].outcome.message
    assert "set tracking.options.image_build_compute to a stack cluster" in images
    assert "(clusters: cpu, gpu;" in images
    # Its endpoint's deployments have egress disabled: they run only images built so.
    assert "its 1 online deployment(s) have egress disabled" in images


RANGES = ["52.10.20.30", "20.61.0.0/24", "52.10.21.0/31"]


def _deployed_from(ranges: list[str], *, endpoints: bool = True) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        data["network"] = {
            "create": True,
            "cidr": "10.8.0.0/16",
            "options": {"deployer_ip_ranges": ranges},
        }
        if not endpoints:
            data.pop("endpoints", None)

    return edit


def test_deployer_ranges_open_the_store_and_workspace_to_those_addresses_only(
    azure_dev: dict[str, Any],
) -> None:
    """Issue 15 item 5: a private stack could not be deployed from an ordinary runner. With
    network.options.deployer_ip_ranges the store takes those addresses through its firewall
    (public access on, default action Deny, one IP rule each, /31 and /32 as addresses:
    https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security) and the
    workspace is opened to them after it exists (how-to-configure-private-link#enable-public-
    access-only-from-internet-ip-ranges); vault and registry stay private."""
    plan = plan_of(variant(azure_dev, _deployed_from(RANGES, endpoints=False)), "azure-private")
    store = named(plan, "mlops-store")
    assert store.inputs["publicNetworkAccess"] == "Enabled"
    assert store.inputs["networkRuleSet"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [
            {"iPAddressOrRange": "52.10.20.30", "action": "Allow"},
            {"iPAddressOrRange": "20.61.0.0/24", "action": "Allow"},
            {"iPAddressOrRange": "52.10.21.0", "action": "Allow"},
            {"iPAddressOrRange": "52.10.21.1", "action": "Allow"},
        ],
    }
    workspace = named(plan, "mlops-tracking")
    # Declared closed, and kept so: a PUT of the workspace closes it rather than open it.
    assert workspace.inputs["publicNetworkAccess"] == "Disabled"
    assert workspace.ignore_changes == ("publicNetworkAccess",)
    access = named(plan, "mlops-tracking-deployer-access")
    assert access.type == "pulumi-python:dynamic/mlops:AzureWorkspaceDeployerAccess"
    assert access.inputs["ranges"] == RANGES
    assert access.inputs["workspace_id"] == "mlops-tracking-id"
    assert access.inputs["arm_endpoint"] == "https://management.azure.com"
    assert workspace.urn in access.depends_on
    assert named(plan, "mlops-vault").inputs["properties"]["publicNetworkAccess"] == "Disabled"
    assert named(plan, "mlops-registry").inputs["publicNetworkAccess"] == "Disabled"
    # check: the deployment path is in place (NET-002 passes without a suppression).
    report = run_policies(plan, all_rules(), ())
    assert "MLOPS-AZURE-NET-002" not in {f.rule.id for f in report.violations}


def test_deployer_ranges_follow_every_change_of_the_workspace(azure_dev: dict[str, Any]) -> None:
    """A workspace PUT resets its IP ranges (how-to-configure-private-link): the access
    resource's revision changes with the workspace's declared inputs, so the same `up`
    applies the ranges again; the ranges alone change nothing else."""

    def revision(edit: Edit) -> str:
        plan = plan_of(variant(azure_dev, edit), "azure-private")
        return str(named(plan, "mlops-tracking-deployer-access").inputs["revision"])

    base = _deployed_from(RANGES, endpoints=False)

    def other_ranges(data: dict[str, Any]) -> None:
        _deployed_from(RANGES[:1], endpoints=False)(data)

    def retagged(data: dict[str, Any]) -> None:
        base(data)
        data["tags"] = {"cost-center": "research"}

    assert revision(base) == revision(other_ranges)
    assert revision(base) != revision(retagged)


def test_deployer_ranges_with_online_endpoints_in_the_stacks_network_are_refused_by_check(
    azure_dev: dict[str, Any],
) -> None:
    """Azure ML fails managed online deployments in a workspace enabled from selected IPs
    without a managed virtual network (how-to-configure-private-link#restrictions-for-ip-
    network-rules); a stack in its own network has none (isolation Disabled)."""
    plan = plan_of(variant(azure_dev, _deployed_from(RANGES)), "azure-private")
    report = run_policies(plan, all_rules(), ())
    (found,) = [f for f in report.violations if f.rule.id == "MLOPS-AZURE-NET-002"]
    assert found.outcome.message == (
        "network.options.deployer_ip_ranges opens the workspace to the deployer's addresses, "
        "but Azure ML fails managed online deployments in a workspace enabled from selected "
        "IP addresses without a managed virtual network (isolation is Disabled: the stack's "
        "own network), and this stack serves 1 endpoint(s): deploy it from a runner inside "
        "the network instead (remove network.options.deployer_ip_ranges, then record where "
        "it runs as a suppression of this rule)"
    )


def test_a_production_store_open_to_the_deployer_only_passes_net_001(
    azure_dev: dict[str, Any],
) -> None:
    def prod_from_runner(data: dict[str, Any]) -> None:
        prod(data)
        _deployed_from(RANGES, endpoints=False)(data)
        data["tracking"] = {"options": {"image_build_compute": "cpu"}}

    plan = plan_of(variant(azure_dev, prod_from_runner))
    assert named(plan, "mlops-store").inputs["publicNetworkAccess"] == "Enabled"
    assert _violations(plan) == []


def test_an_image_build_compute_that_is_no_stack_cluster_fails_check(
    azure_dev: dict[str, Any],
) -> None:
    """Issue 15 item 11: the workspace would wait for a build compute that never exists."""

    def typo(data: dict[str, Any]) -> None:
        prod(data)
        data["tracking"] = {"options": {"image_build_compute": "cpu2"}}

    report = run_policies(plan_of(variant(azure_dev, typo)), all_rules(), SUPPRESSIONS)
    (found,) = [f for f in report.violations if f.rule.id == "MLOPS-AZURE-NET-003"]
    assert found.outcome.message.startswith(
        "tracking.options.image_build_compute 'cpu2' is not a cluster of this stack "
        "(clusters: cpu, gpu)"
    )


def _adopted(data: dict[str, Any]) -> None:
    prod(data)
    vnet = "/subscriptions/s/resourceGroups/hub/providers/Microsoft.Network/virtualNetworks/spoke"
    data["network"] = {
        "existing": {
            "id": vnet,
            "private_subnet_ids": [f"{vnet}/subnets/workloads", f"{vnet}/subnets/endpoints"],
        }
    }


def test_clusters_in_an_adopted_network_need_its_outbound_path(azure_dev: dict[str, Any]) -> None:
    """Issue 15 item 11: workload subnets have no default outbound access; a created network
    gets a NAT gateway, an adopted one brings its own path, which check asks for
    (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-secure-training-vnet)."""
    plan = plan_of(variant(azure_dev, _adopted))
    assert not [r for r in plan.resources if r.type == "azure-native:network:NatGateway"]
    report = run_policies(plan, all_rules(), SUPPRESSIONS)
    (found,) = [f for f in report.violations if f.rule.id == "MLOPS-AZURE-NET-004"]
    assert found.resource.name == "mlops-tracking"
    assert found.outcome.message.startswith(
        "clusters cpu, gpu run in an adopted network whose subnets the stack does not give an "
        "outbound path"
    )
    created = run_policies(plan_of(variant(azure_dev, prod)), all_rules(), SUPPRESSIONS)
    assert "MLOPS-AZURE-NET-004" not in {f.rule.id for f in created.violations}
