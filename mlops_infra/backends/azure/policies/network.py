"""Azure networks: production stacks are private (no data service reachable from the internet)."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import get
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

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
)
