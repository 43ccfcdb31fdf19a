"""Cloud SQL (tracking databases): private IP only, TLS only, backed up, protected.

In production PostgreSQL also logs connections, checkpoints, lock waits and errors, and
pgAudit records schema and privilege changes.
"""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_list, as_mapping, get, truthy
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


_ON_FLAGS = (
    "log_checkpoints",
    "log_connections",
    "log_disconnections",
    "log_lock_waits",
    "log_hostname",
)
_LEVEL_FLAGS = ("log_min_messages", "log_min_error_statement")
# PostgreSQL's levels from error up (https://www.postgresql.org/docs/current/runtime-config-logging.html).
_ERROR_OR_STRICTER = ("error", "log", "fatal", "panic")


def _flags(resource: PlannedResource) -> dict[str, str]:
    flags = [as_mapping(f) for f in as_list(get(resource.inputs, "settings.databaseFlags"))]
    return {str(f.get("name")): str(f.get("value", "")).lower() for f in flags}


def _production_postgres(resource: PlannedResource, context: PolicyContext) -> Outcome | None:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    version = str(resource.inputs.get("databaseVersion") or "")
    if not version.startswith("POSTGRES"):
        return not_applicable(f"{version or 'an unknown engine'} is not PostgreSQL")
    return None


def _logging_flags(resource: PlannedResource, context: PolicyContext) -> Outcome:
    skipped = _production_postgres(resource, context)
    if skipped is not None:
        return skipped
    flags = _flags(resource)
    missing = [f"{name}=on" for name in _ON_FLAGS if flags.get(name) != "on"]
    missing += [
        f"{name}=error" for name in _LEVEL_FLAGS if flags.get(name) not in _ERROR_OR_STRICTER
    ]
    if missing:
        return violation(f"logging flags not set: {', '.join(missing)}")
    return compliant()


def _pgaudit(resource: PlannedResource, context: PolicyContext) -> Outcome:
    skipped = _production_postgres(resource, context)
    if skipped is not None:
        return skipped
    flags = _flags(resource)
    if flags.get("cloudsql.enable_pgaudit") != "on":
        return violation("pgAudit is off (cloudsql.enable_pgaudit)")
    if flags.get("pgaudit.log", "none") in ("", "none"):
        return violation("pgAudit records nothing (pgaudit.log)")
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
    Rule(
        id="MLOPS-GCP-SQL-005",
        title="Production PostgreSQL instances log connections, checkpoints, lock waits and errors",
        pack="gcp",
        types=_INSTANCE,
        check=_logging_flags,
        scanners=(
            "CKV_GCP_51",
            "CKV_GCP_52",
            "CKV_GCP_53",
            "CKV_GCP_54",
            "CKV_GCP_55",
            "CKV_GCP_108",
            "CKV_GCP_109",
        ),
        severity="medium",
        remediation=(
            "database flags log_checkpoints, log_connections, log_disconnections, "
            "log_lock_waits, log_hostname on; log_min_messages, log_min_error_statement error"
        ),
    ),
    Rule(
        id="MLOPS-GCP-SQL-006",
        title="Production PostgreSQL instances are audited with pgAudit",
        pack="gcp",
        types=_INSTANCE,
        check=_pgaudit,
        scanners=("CKV_GCP_110",),
        severity="medium",
        remediation="database flags cloudsql.enable_pgaudit on and pgaudit.log (e.g. ddl,role)",
    ),
)
