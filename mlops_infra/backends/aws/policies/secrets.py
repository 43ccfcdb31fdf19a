"""Secrets Manager: secrets encrypted with a customer-managed key, recoverable after deletion."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, violation

__all__ = ["RULES"]

_SECRET = ("aws:secretsmanager/secret:Secret",)
_MIN_RECOVERY_DAYS = 7


def _cmk(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not resource.inputs.get("kmsKeyId"):
        return violation("encrypted with the AWS-managed key; set kms_key_id to a CMK")
    return compliant()


def _recoverable(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    days = resource.inputs.get("recoveryWindowInDays")
    if isinstance(days, int) and days < _MIN_RECOVERY_DAYS:
        return violation(
            f"recovery window of {days} days; a deleted secret must stay restorable for "
            f"{_MIN_RECOVERY_DAYS}-30 days (secrets.recovery_window_days)"
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AWS-SECRETS-001",
        title="Secrets Manager secrets are encrypted with a KMS customer-managed key",
        pack="aws",
        types=_SECRET,
        check=_cmk,
        scanners=("CKV_AWS_149",),
        severity="medium",
        remediation="set kms_key_id (secrets.encryption_key, or the stack's key)",
    ),
    Rule(
        id="MLOPS-AWS-SECRETS-002",
        title="Deleted secrets stay recoverable for at least 7 days",
        pack="aws",
        types=_SECRET,
        check=_recoverable,
        severity="medium",
        remediation="leave recovery_window_in_days at 7-30 (never 0)",
    ),
)
