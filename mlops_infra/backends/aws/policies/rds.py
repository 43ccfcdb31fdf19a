"""RDS (self-hosted tracking databases): encrypted, private, backed up, protected in production."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_INSTANCE = "aws:rds/instance:Instance"
_CLUSTER = "aws:rds/cluster:Cluster"
_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def _encrypted(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not truthy(resource.inputs.get("storageEncrypted")):
        return violation("storage is not encrypted; set storage_encrypted and kms_key_id")
    return compliant()


def _private(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if truthy(resource.inputs.get("publiclyAccessible")):
        return violation("the database has a public address")
    return compliant()


def _deletion_protection(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    if not truthy(resource.inputs.get("deletionProtection")):
        return violation("deletion protection is off in production")
    return compliant()


def _backups(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    days = resource.inputs.get("backupRetentionPeriod")
    if days == 0:
        return violation("automated backups are off (backup_retention_period 0)")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AWS-RDS-001",
        title="RDS storage is encrypted at rest",
        pack="aws",
        types=(_INSTANCE, _CLUSTER),
        check=_encrypted,
        scanners=("CKV_AWS_16",),
        remediation="storage_encrypted=True with the stack's KMS key",
    ),
    Rule(
        id="MLOPS-AWS-RDS-002",
        title="RDS databases are not publicly accessible",
        pack="aws",
        types=(_INSTANCE, _CLUSTER_INSTANCE),
        check=_private,
        scanners=("CKV_AWS_17",),
        severity="critical",
        remediation="publicly_accessible=False, in private subnets",
    ),
    Rule(
        id="MLOPS-AWS-RDS-003",
        title="Production RDS databases have deletion protection",
        pack="aws",
        types=(_INSTANCE, _CLUSTER),
        check=_deletion_protection,
        scanners=("CKV_AWS_293",),
        remediation="deletion_protection=True in production",
    ),
    Rule(
        id="MLOPS-AWS-RDS-004",
        title="RDS databases keep automated backups",
        pack="aws",
        types=(_INSTANCE, _CLUSTER),
        check=_backups,
        scanners=("CKV_AWS_133",),
        severity="medium",
        remediation="backup_retention_period >= 1 (tracking.backup_retention_days)",
    ),
)
