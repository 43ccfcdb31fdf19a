"""What offline plans and diffs know of Azure: replacement rules, stateful types.

A plan has no provider to ask: :data:`PLAN_RULES` says which input changes replace a
resource and which types hold data. The invokes and computed outputs a plan needs are
answered by :class:`~mlops_infra.backends.azure.testing.AzureMocks` (the unit tests' mocks).

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.azure.plugin` points here.
"""

from __future__ import annotations

from types import MappingProxyType

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES"]

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
            # Its name is a GUID of scope, principal and role (_iam.role_assignment_name).
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
