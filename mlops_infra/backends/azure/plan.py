"""What offline plans and diffs know of Azure: replacement rules, stateful types, invokes.

A plan has no provider to ask: :data:`PLAN_RULES` says which input changes replace a
resource and which types hold data; :func:`plan_invokes` answers the invokes the
backends make (client config); :func:`plan_outputs` gives the outputs azure-native computes
that the backends read back (managed identities).

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.azure.plugin` points here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast
from uuid import NAMESPACE_URL, uuid5

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES", "plan_invokes", "plan_outputs"]

PLAN_RULES = ProviderRules(
    replaced_on=MappingProxyType(
        {
            "azure-native:storage:StorageAccount": frozenset(
                {"accountName", "resourceGroupName", "location"}
            ),
            "azure-native:storage:BlobContainer": frozenset(
                {"containerName", "accountName", "resourceGroupName"}
            ),
            "azure-native:containerregistry:Registry": frozenset(
                {"registryName", "resourceGroupName", "location"}
            ),
            "azure-native:keyvault:Vault": frozenset(
                {"vaultName", "resourceGroupName", "location"}
            ),
            "azure-native:machinelearningservices:Workspace": frozenset(
                {"workspaceName", "resourceGroupName", "location"}
            ),
            "azure-native:machinelearningservices:OnlineEndpoint": frozenset(
                {"endpointName", "workspaceName", "resourceGroupName", "location"}
            ),
            "azure-native:machinelearningservices:Compute": frozenset(
                {"computeName", "workspaceName", "resourceGroupName", "location"}
            ),
            # Its name is a GUID of scope, principal and role (_roles.role_assignment_name).
            "azure-native:authorization:RoleAssignment": frozenset({"roleAssignmentName", "scope"}),
        }
    ),
    immutable_types=frozenset(
        {
            # An Azure ML job is submitted by its PUT; almost nothing can change afterwards.
            "azure-native:machinelearningservices:Job",
            "azure-native:machinelearningservices:ComponentVersion",
        }
    ),
    stateful_types=frozenset(
        {
            "azure-native:storage:StorageAccount",
            "azure-native:storage:BlobContainer",
            "azure-native:containerregistry:Registry",
            "azure-native:keyvault:Vault",
            "azure-native:keyvault:Key",
            "azure-native:dbforpostgresql:Server",
            "azure-native:machinelearningservices:Workspace",
        }
    ),
    tagged_types=frozenset(
        {
            "azure-native:storage:StorageAccount",
            "azure-native:containerregistry:Registry",
            "azure-native:keyvault:Vault",
            "azure-native:machinelearningservices:Workspace",
        }
    ),
)
"""Rules of pulumi_azure_native types (a resource's name, group and location are its id)."""


_MOCK_UUID = "00000000-0000-0000-0000-000000000000"


def plan_invokes(region: str | None) -> Mapping[str, Mapping[str, Any]]:
    """Answers the invokes Azure backends make, with fixed, obviously fake values."""
    del region  # locations come from the stack, not from an invoke
    return {
        "azure-native:authorization:getClientConfig": {
            "clientId": _MOCK_UUID,
            "objectId": _MOCK_UUID,
            "subscriptionId": _MOCK_UUID,
            "tenantId": _MOCK_UUID,
        },
    }


def _principal(name: str) -> str:
    """A fixed, obviously fake principal id per resource name."""
    return str(uuid5(NAMESPACE_URL, f"mlops-infra-plan:{name}"))


def plan_outputs(
    typ: str, name: str, inputs: Mapping[str, Any], region: str | None
) -> Mapping[str, Any] | None:
    """Outputs azure-native computes that the backends read back, as fixed, fake values.

    * A managed identity comes back with its ``principalId``; user-assigned identities,
      given as a list of ids, come back as a map of id to details (echoing the list
      breaks the SDK's output types, failing every output of the resource).
    * A user-assigned identity resource has a ``principalId``.

    Args:
        typ: The resource's type token.
        name: Its logical name.
        inputs: Its inputs.
        region: The stack's region.
    """
    del region  # identities do not depend on it
    if not typ.startswith("azure-native:"):
        return None
    outputs: dict[str, Any] = {}
    identity = inputs.get("identity")
    if isinstance(identity, Mapping):
        reshaped = dict(cast(Mapping[str, Any], identity))
        users = reshaped.get("userAssignedIdentities")
        if isinstance(users, list):
            reshaped["userAssignedIdentities"] = {str(i): {} for i in cast(list[Any], users)}
        if "SystemAssigned" in str(reshaped.get("type")):
            reshaped["principalId"] = _principal(name)
            reshaped["tenantId"] = _MOCK_UUID
        outputs["identity"] = reshaped
    if typ == "azure-native:managedidentity:UserAssignedIdentity":
        outputs["principalId"] = _principal(name)
        outputs["clientId"] = _MOCK_UUID
    return outputs or None
