"""KMS keys: rotated, never open to every principal, slow to delete in production."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_mapping, as_strings, policy_statements, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES", "wildcard_principal"]

_KEY = ("aws:kms/key:Key",)
_MIN_PROD_DELETION_DAYS = 30


def wildcard_principal(statement: Mapping[str, Any]) -> bool:
    """Whether an Allow statement admits any principal without a condition."""
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    principal: object = statement.get("Principal")
    if principal == "*":
        return True
    return "*" in as_strings(as_mapping(principal).get("AWS"))


def _rotation(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    spec = resource.inputs.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return not_applicable(f"{spec} keys cannot rotate automatically")
    if not truthy(resource.inputs.get("enableKeyRotation")):
        return violation("automatic key rotation is off; set enable_key_rotation")
    return compliant()


def _policy(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if any(wildcard_principal(s) for s in policy_statements(resource.inputs.get("policy"))):
        return violation("the key policy allows any principal (*) without a condition")
    return compliant()


def _deletion_window(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    days = resource.inputs.get("deletionWindowInDays")
    if isinstance(days, int) and days < _MIN_PROD_DELETION_DAYS:
        return violation(
            f"deletion window of {days} days; production keys wait {_MIN_PROD_DELETION_DAYS} "
            "(the default) so a mistaken deletion can be cancelled"
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AWS-KMS-001",
        title="KMS customer-managed keys rotate automatically",
        pack="aws",
        types=_KEY,
        check=_rotation,
        scanners=("CKV_AWS_7",),
        severity="medium",
        remediation="set enable_key_rotation=True",
    ),
    Rule(
        id="MLOPS-AWS-KMS-002",
        title="KMS key policies allow no wildcard principal",
        pack="aws",
        types=_KEY,
        check=_policy,
        scanners=("CKV_AWS_33",),
        severity="critical",
        remediation="name the account root and the roles that use the key",
    ),
    Rule(
        id="MLOPS-AWS-KMS-003",
        title="Production KMS keys keep the 30-day deletion window",
        pack="aws",
        types=_KEY,
        check=_deletion_window,
        severity="high",
        remediation="leave deletion_window_in_days unset (30)",
    ),
)
