"""Least-privilege role assignments: one built-in data-plane role per identity and resource."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pulumi
from pulumi_azure_native import authorization

from mlops_infra.backends.azure._scope import AnyContext

__all__ = ["ROLE_IDS", "Role", "grant"]

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
    return authorization.RoleAssignment(
        ctx.child_name(role_name),
        principal_id=principal_id,
        # A managed identity: skips the directory lookup that fails while it replicates.
        principal_type="ServicePrincipal",
        role_definition_id=definition,
        scope=scope,
        description=f"mlops-infra: {role} for {ctx.name}",
        opts=ctx.opts(depends_on=depends_on),
    )
