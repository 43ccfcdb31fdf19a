"""Cloud SQL (tracking databases): private IP only, TLS only, backed up, protected in production."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import get, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_INSTANCE = ("gcp:sql/databaseInstance:DatabaseInstance",)
_TLS_MODES = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


def _no_public_ip(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    # ipv4_enabled defaults to true: only an explicit false keeps the public address off.
    if get(resource.inputs, "settings.ipConfiguration.ipv4Enabled") is not False:
        return violation("has a public IPv4 address; set ip_configuration.ipv4_enabled=False")
    return compliant()


def _tls(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    mode = get(resource.inputs, "settings.ipConfiguration.sslMode")
    if mode not in _TLS_MODES:
        return violation(f"ssl_mode is {mode or 'unset'}; require ENCRYPTED_ONLY")
    return compliant()


def _backups(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not truthy(get(resource.inputs, "settings.backupConfiguration.enabled")):
        return violation("automated backups are off")
    return compliant()


def _protected(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    # deletion_protection (Pulumi-side) defaults to true; the API-side flag must be set.
    if resource.inputs.get("deletionProtection") is False or not truthy(
        get(resource.inputs, "settings.deletionProtectionEnabled")
    ):
        return violation("deletion protection is off in production")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-GCP-SQL-001",
        title="Cloud SQL instances have no public IP",
        pack="gcp",
        types=_INSTANCE,
        check=_no_public_ip,
        scanners=("CKV_GCP_60",),
        severity="critical",
        remediation="ip_configuration.ipv4_enabled=False with a private network",
    ),
    Rule(
        id="MLOPS-GCP-SQL-002",
        title="Cloud SQL instances accept only TLS connections",
        pack="gcp",
        types=_INSTANCE,
        check=_tls,
        scanners=("CKV_GCP_6",),
        remediation='ip_configuration.ssl_mode="ENCRYPTED_ONLY"',
    ),
    Rule(
        id="MLOPS-GCP-SQL-003",
        title="Cloud SQL instances keep automated backups",
        pack="gcp",
        types=_INSTANCE,
        check=_backups,
        scanners=("CKV_GCP_14",),
        severity="medium",
        remediation="backup_configuration.enabled=True",
    ),
    Rule(
        id="MLOPS-GCP-SQL-004",
        title="Production Cloud SQL instances have deletion protection",
        pack="gcp",
        types=_INSTANCE,
        check=_protected,
        remediation="deletion_protection and settings.deletion_protection_enabled",
    ),
)
