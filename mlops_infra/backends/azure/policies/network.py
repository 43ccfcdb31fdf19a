"""Azure networks: production stacks are private, and private stacks say what they need.

* Production: no data service reachable from the internet (NET-001).
* A private stack's ``pulumi up`` itself talks to the data planes it closed (Blob uploads,
  the workspace's MLflow API): it runs inside the network, or from the addresses in
  ``network.options.deployer_ip_ranges``, which store and workspace then accept (NET-002).
* A private registry cannot be used by Azure ML's image build service: images build on a
  cluster of the stack named by ``image_build_compute`` (NET-003); deployments with egress
  disabled run only images built that way.
* An adopted network's outbound path is its owner's: clusters and image builds need one
  (NET-004; a created network has a NAT gateway).
"""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import get
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_WORKSPACE = ("azure-native:machinelearningservices:Workspace",)
_BLOB = "azure-native:storage:Blob"
_ACCOUNT = "azure-native:storage:StorageAccount"
_COMPUTE = "azure-native:machinelearningservices:Compute"
_NAT = "azure-native:network:NatGateway"
_ONLINE_ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
_RELEASE = "pulumi-python:dynamic/mlops:AzureMlOnlineRelease"
_DEPLOYER_ACCESS = "pulumi-python:dynamic/mlops:AzureWorkspaceDeployerAccess"
_RANGES = "network.options.deployer_ip_ranges"
_MLFLOW_CALLERS = (
    "pulumi-python:dynamic/mlops:PromotionDecision",
    "pulumi-python:dynamic/mlops:ModelAlias",
)

# Where each type keeps its public network access switch.
_ACCESS_KEY = {
    "azure-native:storage:StorageAccount": "publicNetworkAccess",
    "azure-native:keyvault:Vault": "properties.publicNetworkAccess",
    "azure-native:containerregistry:Registry": "publicNetworkAccess",
    "azure-native:machinelearningservices:Workspace": "publicNetworkAccess",
}


def _private_in_production(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    access = get(resource.inputs, _ACCESS_KEY[resource.type])
    if resource.type == _ACCOUNT and _selected_addresses_only(resource):
        return compliant()
    if access != "Disabled":
        return violation(
            f"public network access is {access or 'the service default (Enabled)'} in "
            "production: the data is reachable from the internet; give the stack a network "
            "(network.create or network.existing), which disables public access and adds "
            "private endpoints"
        )
    return compliant()


def _selected_addresses_only(account: PlannedResource) -> bool:
    """A storage account open to its IP rules only (the deployer's ranges), nothing else."""
    return (
        get(account.inputs, "networkRuleSet.defaultAction") == "Deny"
        and not get(account.inputs, "networkRuleSet.virtualNetworkRules")
        and bool(get(account.inputs, "networkRuleSet.ipRules"))
    )


def _private(resource: PlannedResource) -> bool:
    return resource.inputs.get("publicNetworkAccess") == "Disabled"


def _isolation(resource: PlannedResource) -> str:
    return str(get(resource.inputs, "managedNetwork.isolationMode") or "Disabled")


def _deployed_from_inside(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not _private(resource):
        return not_applicable("the workspace is reachable without the network")
    needs: list[str] = []
    blobs = context.of_type(_BLOB)
    if blobs:
        needs.append(
            f"it uploads {len(blobs)} code package blob(s) to the private storage account "
            "(Blob data plane)"
        )
    if context.of_type(*_MLFLOW_CALLERS):
        needs.append("the promotion gate and the registry alias call the workspace's MLflow API")
    if not needs:
        return compliant()
    access = context.of_type(_DEPLOYER_ACCESS)
    if access:
        # Azure ML: managed online deployments fail in a workspace enabled from selected
        # IPs that has no managed virtual network.
        # https://learn.microsoft.com/en-us/azure/machine-learning/how-to-configure-private-link#restrictions-for-ip-network-rules
        endpoints = context.of_type(_ONLINE_ENDPOINT)
        if endpoints and _isolation(resource) == "Disabled":
            return violation(
                f"{_RANGES} opens the workspace to the deployer's addresses, but Azure ML "
                "fails managed online deployments in a workspace enabled from selected IP "
                f"addresses without a managed virtual network (isolation is Disabled: the "
                f"stack's own network), and this stack serves {len(endpoints)} endpoint(s): "
                f"deploy it from a runner inside the network instead (remove {_RANGES}, then "
                "record where it runs as a suppression of this rule)"
            )
        return compliant()
    return violation(
        "this private stack's `pulumi up` reaches services that accept private traffic only: "
        + "; ".join(needs)
        + f". Either list the runner's fixed public egress addresses in {_RANGES} (the "
        "store and the workspace then accept them; the runner must not run in the store's "
        "region, whose requests bypass IP rules), or run it from a runner inside the "
        "stack's network, or in a network peered with it whose DNS resolves the "
        "privatelink zones (link the zones there, or bring central zones with "
        "network.existing.private_dns_zone_ids), and record where it runs as a suppression "
        "of this rule"
    )


def _image_build_compute(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not _private(resource) or not resource.inputs.get("containerRegistry"):
        return not_applicable("the workspace's registry is not private")
    clusters = sorted(str(c.inputs.get("computeName")) for c in context.of_type(_COMPUTE))
    named = resource.inputs.get("imageBuildCompute")
    if named:
        if not context.resources or named in clusters:
            return compliant()
        return violation(
            f"tracking.options.image_build_compute {named!r} is not a cluster of this stack "
            f"(clusters: {', '.join(clusters) or 'none declared'}): Azure ML would wait for "
            "a compute that never exists, and environment and MLflow scoring images would "
            "never build; name one of the stack's clusters"
        )
    sealed = [
        r
        for r in context.of_type(_RELEASE)
        if get(r.inputs, "deployment.properties.egressPublicNetworkAccess") == "Disabled"
    ]
    deployments = (
        f"; its {len(sealed)} online deployment(s) have egress disabled and run only "
        "scoring images built into the workspace's registry this way"
        if sealed
        else ""
    )
    return violation(
        "the registry is private, so Azure ML's build service cannot build environment and "
        "MLflow scoring images: set tracking.options.image_build_compute to a stack cluster "
        f"(clusters: {', '.join(clusters) or 'none declared'}; its subnet needs outbound "
        "access to the package indexes), or run prebuilt environments only "
        f"(options.environment or image) and suppress this rule{deployments}"
    )


def _outbound(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not _private(resource) or _isolation(resource) != "Disabled":
        return not_applicable("compute runs in a managed network or without the stack's network")
    clusters = sorted(str(c.inputs.get("computeName")) for c in context.of_type(_COMPUTE))
    if not clusters:
        return not_applicable("no clusters in the stack's network")
    if context.of_type(_NAT):
        return compliant()
    return violation(
        f"clusters {', '.join(clusters)} run in an adopted network whose subnets the stack "
        "does not give an outbound path (a created network's workload subnet has a NAT "
        "gateway): without one (a NAT gateway or a firewall route allowing the "
        "AzureMachineLearning, BatchNodeManagement, Storage and AzureContainerRegistry "
        "service tags and the package indexes) nodes fail to start and images fail to "
        "build; provide it, then record it as a suppression of this rule"
    )


RULES = (
    Rule(
        id="MLOPS-AZURE-NET-001",
        title="Production Azure stacks keep their data services off the internet",
        pack="azure",
        types=tuple(_ACCESS_KEY),
        check=_private_in_production,
        scanners=("CKV_AZURE_59", "CKV_AZURE_189", "CKV_AZURE_139", "CKV_AZURE_144"),
        severity="high",
        remediation="network.create: true (or network.existing) in production",
    ),
    Rule(
        id="MLOPS-AZURE-NET-002",
        title="Private Azure stacks are deployed from inside their network or allowed addresses",
        pack="azure",
        types=_WORKSPACE,
        check=_deployed_from_inside,
        severity="medium",
        remediation=(
            "network.options.deployer_ip_ranges: [<the runner's egress addresses>], or run "
            "pulumi up inside the network (or a peered one resolving the privatelink zones) "
            "and record it as a suppression"
        ),
        uses_stack=True,
    ),
    Rule(
        id="MLOPS-AZURE-NET-003",
        title="Private Azure ML workspaces build images on a cluster",
        pack="azure",
        types=_WORKSPACE,
        check=_image_build_compute,
        severity="medium",
        remediation="tracking.options.image_build_compute: <a stack cluster>",
        uses_stack=True,
    ),
    Rule(
        id="MLOPS-AZURE-NET-004",
        title="Clusters in an adopted Azure network have an outbound path",
        pack="azure",
        types=_WORKSPACE,
        check=_outbound,
        severity="medium",
        remediation=(
            "give the adopted subnet a NAT gateway or firewall route and record it as a suppression"
        ),
        uses_stack=True,
    ),
)
