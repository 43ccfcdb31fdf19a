"""IAM: least privilege.

No admin, no wildcard actions, no wildcard resources for writes, no public trust, and the
organisation's permissions boundary on every role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_infra.backends.aws.iam_actions import UNSCOPABLE_ACTIONS
from mlops_infra.backends.aws.policies.kms import wildcard_principal
from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_list, as_mapping, as_strings, policy_statements
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES", "documents"]

_ROLE = "aws:iam/role:Role"
_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    _ROLE,
)
_ATTACHMENT_TYPES = (
    _ROLE,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
_ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess",)
_READ_PREFIXES = ("Get", "List", "Describe", "Search", "BatchGet", "Query", "Head", "View")


def documents(resource: PlannedResource) -> list[object]:
    """Returns the IAM policy documents a resource declares (inline policies included)."""
    if resource.type == _ROLE:
        return [as_mapping(p).get("policy") for p in as_list(resource.inputs.get("inlinePolicies"))]
    return [resource.inputs.get("policy")]


def _allows(resource: PlannedResource) -> list[Mapping[str, Any]]:
    return [
        s
        for document in documents(resource)
        for s in policy_statements(document)
        if s.get("Effect") == "Allow"
    ]


def _actions(statement: Mapping[str, Any]) -> list[str]:
    return as_strings(statement.get("Action"))


def _no_admin(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    for statement in _allows(resource):
        if any(a in ("*", "*:*") for a in _actions(statement)) and "*" in as_strings(
            statement.get("Resource")
        ):
            return violation('a statement allows "*" on "*" (full administrator access)')
    return compliant()


def _no_wildcard_actions(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    wild = sorted(
        {a for s in _allows(resource) for a in _actions(s) if a == "*" or a.endswith(":*")}
    )
    if wild:
        return violation(f"wildcard actions {', '.join(wild)}; list the actions the workload uses")
    return compliant()


def _writes(action: str) -> bool:
    if action in UNSCOPABLE_ACTIONS:
        return False
    verb = action.split(":", 1)[-1]
    return not verb.startswith(_READ_PREFIXES)


def _no_wildcard_resources(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    broad = sorted(
        {
            action
            for s in _allows(resource)
            if "*" in as_strings(s.get("Resource")) and not s.get("Condition")
            for action in _actions(s)
            if _writes(action)
        }
    )
    if broad:
        return violation(
            f"{', '.join(broad)} allowed on every resource (*); scope them to the stack's ARNs"
        )
    return compliant()


def _no_admin_attachment(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    arns = as_strings(resource.inputs.get("managedPolicyArns")) + as_strings(
        resource.inputs.get("policyArn")
    )
    admin = [
        arn for arn in arns if arn in _ADMIN_POLICIES or arn.endswith(":policy/AdministratorAccess")
    ]
    if admin:
        return violation("AdministratorAccess is attached")
    return compliant()


def _trust(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    statements = policy_statements(resource.inputs.get("assumeRolePolicy"))
    if any(wildcard_principal(s) for s in statements):
        return violation("any principal (*) may assume the role")
    return compliant()


def _boundary(resource: PlannedResource, context: PolicyContext) -> Outcome:
    wanted = context.facts.permissions_boundary
    if not wanted:
        return not_applicable("identity.permissions_boundary is not set")
    actual = resource.inputs.get("permissionsBoundary")
    if actual != wanted:
        return violation(f"permissions boundary is {actual or 'unset'}; expected {wanted}")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AWS-IAM-001",
        title="No IAM policy grants full administrator access (* on *)",
        pack="aws",
        types=_POLICY_TYPES,
        check=_no_admin,
        scanners=("CKV_AWS_62", "CKV_AWS_1"),
        severity="critical",
        remediation="grant the actions and resources the workload uses",
    ),
    Rule(
        id="MLOPS-AWS-IAM-002",
        title="IAM policies list actions, never * or service:*",
        pack="aws",
        types=_POLICY_TYPES,
        check=_no_wildcard_actions,
        scanners=("CKV_AWS_63",),
        remediation="replace wildcards with the actions used",
    ),
    Rule(
        id="MLOPS-AWS-IAM-003",
        title='IAM policies scope write actions to resources, not "*"',
        pack="aws",
        types=_POLICY_TYPES,
        check=_no_wildcard_resources,
        scanners=("CKV_AWS_355", "CKV_AWS_290"),
        remediation="name the bucket, key, repository and SageMaker ARNs of the stack",
    ),
    Rule(
        id="MLOPS-AWS-IAM-004",
        title="No role or principal has AdministratorAccess attached",
        pack="aws",
        types=_ATTACHMENT_TYPES,
        check=_no_admin_attachment,
        scanners=("CKV_AWS_274",),
        severity="critical",
        remediation="attach a policy scoped to the workload",
    ),
    Rule(
        id="MLOPS-AWS-IAM-005",
        title="IAM roles can be assumed only by named services or principals",
        pack="aws",
        types=(_ROLE,),
        check=_trust,
        scanners=("CKV_AWS_60",),
        severity="critical",
        remediation="trust sagemaker.amazonaws.com (or the named role), never *",
    ),
    Rule(
        id="MLOPS-AWS-IAM-006",
        title="Roles carry the permissions boundary the stack requires",
        pack="aws",
        types=(_ROLE,),
        check=_boundary,
        remediation="set permissions_boundary on every role (identity.permissions_boundary)",
    ),
)
