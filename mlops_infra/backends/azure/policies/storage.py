"""Azure Storage: HTTPS and TLS 1.2 only, no anonymous blobs, no shared keys, private containers."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, violation

__all__ = ["RULES"]

_ACCOUNT = ("azure-native:storage:StorageAccount",)
_CONTAINER = ("azure-native:storage:BlobContainer",)


def _https_only(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("enableHttpsTrafficOnly") is False:
        return violation("plain HTTP is accepted; enable_https_traffic_only must stay true")
    return compliant()


def _tls12(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    version = resource.inputs.get("minimumTlsVersion")
    if version not in ("TLS1_2", "TLS1_3"):
        return violation(f"minimum TLS version is {version or 'the service default'}; set TLS1_2")
    return compliant()


def _no_anonymous(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("allowBlobPublicAccess") is not False:
        return violation("anonymous blob access is not disabled; allow_blob_public_access=False")
    return compliant()


def _no_shared_key(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("allowSharedKeyAccess") is not False:
        return violation("account keys still authorize requests; allow_shared_key_access=False")
    return compliant()


def _private_container(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    access = resource.inputs.get("publicAccess")
    if access not in (None, "None"):
        return violation(f"container public access level is {access}")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AZURE-ST-001",
        title="Storage accounts accept HTTPS only",
        pack="azure",
        types=_ACCOUNT,
        check=_https_only,
        scanners=("CKV_AZURE_3",),
        remediation="enable_https_traffic_only=True",
    ),
    Rule(
        id="MLOPS-AZURE-ST-002",
        title="Storage accounts require TLS 1.2 or later",
        pack="azure",
        types=_ACCOUNT,
        check=_tls12,
        scanners=("CKV_AZURE_44",),
        remediation='minimum_tls_version="TLS1_2"',
    ),
    Rule(
        id="MLOPS-AZURE-ST-003",
        title="Storage accounts disallow anonymous blob access",
        pack="azure",
        types=_ACCOUNT,
        check=_no_anonymous,
        scanners=("CKV_AZURE_190", "CKV2_AZURE_47"),
        severity="critical",
        remediation="allow_blob_public_access=False",
    ),
    Rule(
        id="MLOPS-AZURE-ST-004",
        title="Storage accounts disallow shared-key authorization",
        pack="azure",
        types=_ACCOUNT,
        check=_no_shared_key,
        scanners=("CKV2_AZURE_40",),
        remediation="allow_shared_key_access=False (Entra ID only)",
    ),
    Rule(
        id="MLOPS-AZURE-ST-005",
        title="Blob containers are private",
        pack="azure",
        types=_CONTAINER,
        check=_private_container,
        scanners=("CKV_AZURE_34",),
        severity="critical",
        remediation='public_access="None"',
    ),
)
