"""Azure networks: production stacks are private, and private stacks say what they need.

* Production: no data service reachable from the internet (NET-001).
* A private stack's ``pulumi up`` itself talks to the data planes it closed (Blob uploads,
  the workspace's MLflow API): it must run inside the network (NET-002).
* A private registry cannot be used by Azure ML's image build service: images build on a
  cluster named by ``image_build_compute`` (NET-003).
"""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import get
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_WORKSPACE = ("azure-native:machinelearningservices:Workspace",)
_BLOB = "azure-native:storage:Blob"
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
    if access != "Disabled":
        return violation(
            f"public network access is {access or 'the service default (Enabled)'} in "
            "production: the data is reachable from the internet; give the stack a network "
            "(network.create or network.existing), which disables public access and adds "
            "private endpoints"
        )
    return compliant()


def _private(resource: PlannedResource) -> bool:
    return resource.inputs.get("publicNetworkAccess") == "Disabled"


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
    return violation(
        "this private stack's `pulumi up` reaches services that accept private traffic only: "
        + "; ".join(needs)
        + ". Run it from a runner inside the stack's network, or in a network peered with it "
        "whose DNS resolves the privatelink zones (link the zones there, or bring central "
        "zones with network.existing.private_dns_zone_ids); then record where it runs as a "
        "suppression of this rule"
    )


def _image_build_compute(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not _private(resource) or not resource.inputs.get("containerRegistry"):
        return not_applicable("the workspace's registry is not private")
    if resource.inputs.get("imageBuildCompute"):
        return compliant()
    return violation(
        "the registry is private, so Azure ML's build service cannot build environment and "
        "MLflow scoring images: set tracking.options.image_build_compute to a stack cluster "
        "(e.g. cpu; its subnet needs outbound access to the package indexes), or run "
        "prebuilt environments only (options.environment or image) and suppress this rule"
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
        title="Private Azure stacks are deployed from inside their network",
        pack="azure",
        types=_WORKSPACE,
        check=_deployed_from_inside,
        severity="medium",
        remediation=(
            "run pulumi up inside the network (or a peered one resolving the privatelink "
            "zones) and record it as a suppression"
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
    ),
)
