"""Least-privilege role assignments: one built-in data-plane role per identity and resource.

Each assignment is named by a GUID derived from its scope, principal and role
(:func:`role_assignment_name`), not a random one: Azure keeps one assignment per scope,
principal and role and answers a second, differently named one with 409
``RoleAssignmentExists``, so after a lost state or an import the next ``up`` writes the same
assignment again instead of failing
(https://learn.microsoft.com/en-us/azure/role-based-access-control/role-assignments-rest,
https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

import pulumi
from pulumi_azure_native import authorization

from mlops_infra.backends.azure._scope import AnyContext

__all__ = ["ROLE_ASSIGNMENT_NAMESPACE", "ROLE_IDS", "Role", "grant", "role_assignment_name"]

Role = Literal[
    "AcrPull",
    "Key Vault Crypto Service Encryption User",
    "Storage Blob Data Contributor",
    "Storage Blob Data Reader",
]
"""The built-in roles the backend grants (never Owner or Contributor)."""

ROLE_IDS: dict[Role, str] = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}
"""Built-in role definition GUIDs (the same in every Azure tenant)."""

ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5f0b6a52-3c1e-5d0c-9a57-6d6c6f707369")
"""UUID namespace of the role assignment names (fixed: changing it renames every one)."""


def role_assignment_name(scope: str, principal_id: str, role_definition_id: str) -> str:
    """The assignment's name: a GUID of scope, principal and role (ARM ids ignore case)."""
    key = "|".join(part.lower() for part in (scope, principal_id, role_definition_id))
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def grant(
    ctx: AnyContext,
    role_name: str,
    *,
    role: Role,
    principal_id: pulumi.Input[str],
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] | None = None,
) -> authorization.RoleAssignment:
    """Grants ``role`` on ``scope`` to a managed identity (child ``<name>-<role_name>``).

    ``ctx`` is any kind's build context (only its naming and options are used).
    """
    definition = pulumi.Output.from_input(subscription_id).apply(
        lambda subscription: (
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{ROLE_IDS[role]}"
        )
    )
    name = pulumi.Output.all(scope, principal_id).apply(
        lambda parts: role_assignment_name(str(parts[0]), str(parts[1]), ROLE_IDS[role])
    )
    return authorization.RoleAssignment(
        ctx.child_name(role_name),
        role_assignment_name=name,
        principal_id=principal_id,
        # A managed identity: skips the directory lookup that fails while it replicates.
        principal_type="ServicePrincipal",
        role_definition_id=definition,
        scope=scope,
        description=f"mlops-infra: {role} for {ctx.name}",
        # The same scope, principal and role cannot be assigned twice: a replacement
        # deletes the old assignment first.
        opts=ctx.opts(depends_on=depends_on, delete_before_replace=True),
    )
