"""Azure registry, Key Vault and Machine Learning: no admin users, purge protection, private."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import get, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_REGISTRY = ("azure-native:containerregistry:Registry",)
_VAULT = ("azure-native:keyvault:Vault",)
_WORKSPACE = ("azure-native:machinelearningservices:Workspace",)
_ONLINE_ENDPOINT = ("azure-native:machinelearningservices:OnlineEndpoint",)


def _no_admin_user(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if truthy(resource.inputs.get("adminUserEnabled")):
        return violation("the registry's admin user is enabled; use managed identities")
    return compliant()


def _no_anonymous_pull(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if truthy(resource.inputs.get("anonymousPullEnabled")):
        return violation("anyone can pull images anonymously")
    return compliant()


def _purge_protection(resource: PlannedResource, context: PolicyContext) -> Outcome:
    # Purge protection can never be turned off, and a purged-protected vault's name stays
    # taken for its retention period: required where the data must survive, production.
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    if not truthy(get(resource.inputs, "properties.enablePurgeProtection")):
        return violation("purge protection is off: a deleted vault's keys can be purged at once")
    return compliant()


def _private_workspace(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("publicNetworkAccess") != "Disabled":
        return violation(
            "the workspace is reachable from the internet; public_network_access=Disabled"
        )
    return compliant()


def _private_online_endpoint(resource: PlannedResource, context: PolicyContext) -> Outcome:
    endpoint = next(
        (e for e in context.facts.endpoints if resource.name.startswith(e.component)), None
    )
    if endpoint is not None and endpoint.public:
        return not_applicable(f"endpoint {endpoint.name} is declared public (MLOPS-SERVE-001)")
    if get(resource.inputs, "properties.publicNetworkAccess") != "Disabled":
        return violation(
            "the online endpoint accepts public traffic; public_network_access=Disabled"
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AZURE-ACR-001",
        title="Container registries have the admin user disabled",
        pack="azure",
        types=_REGISTRY,
        check=_no_admin_user,
        scanners=("CKV_AZURE_137",),
        remediation="admin_user_enabled=False",
    ),
    Rule(
        id="MLOPS-AZURE-ACR-002",
        title="Container registries disallow anonymous pull",
        pack="azure",
        types=_REGISTRY,
        check=_no_anonymous_pull,
        scanners=("CKV_AZURE_138",),
        severity="critical",
        remediation="anonymous_pull_enabled=False",
    ),
    Rule(
        id="MLOPS-AZURE-KV-001",
        title="Production key vaults have purge protection",
        pack="azure",
        types=_VAULT,
        check=_purge_protection,
        scanners=("CKV_AZURE_110", "CKV_AZURE_42"),
        remediation="properties.enable_purge_protection=True",
    ),
    Rule(
        id="MLOPS-AZURE-ML-001",
        title="Machine Learning workspaces disable public network access",
        pack="azure",
        types=_WORKSPACE,
        check=_private_workspace,
        scanners=("CKV_AZURE_144",),
        remediation='public_network_access="Disabled" with private endpoints',
    ),
    Rule(
        id="MLOPS-AZURE-ML-002",
        title="Managed online endpoints disable public network access",
        pack="azure",
        types=_ONLINE_ENDPOINT,
        check=_private_online_endpoint,
        remediation='properties.public_network_access="Disabled"',
    ),
)
