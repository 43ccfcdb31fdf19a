"""Azure's mocks: the one place its invoke answers and computed outputs are written.

``mlops-infra plan`` uses :class:`AzureMocks` previewed (the descriptor in
:mod:`mlops_infra.backends.azure.plugin` names it); tests use it applied.

Example::

    from mlops_infra.backends.azure.testing import AzureMocks
    from mlops_infra.testing import run_stack

    run = run_stack({"cloud": "azure", ...}, mocks=AzureMocks())

Imports no cloud SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from uuid import NAMESPACE_URL, uuid5

from mlops_infra.offline import CloudMocks

__all__ = [
    "CLIENT_CONFIG",
    "RESOURCE_GROUP",
    "SUBSCRIPTION",
    "TENANT",
    "WORKSPACE_ID",
    "AzureMocks",
    "principal_id",
]

_MOCK_UUID = "00000000-0000-0000-0000-000000000000"

SUBSCRIPTION = _MOCK_UUID
"""Subscription id the mocks answer with (obviously fake)."""

TENANT = _MOCK_UUID
"""Tenant id the mocks answer with (obviously fake)."""

RESOURCE_GROUP = "rg-test"
"""Name every resource group gets once applied."""

CLIENT_CONFIG: Mapping[str, Mapping[str, Any]] = {
    "azure-native:authorization:getClientConfig": {
        "clientId": _MOCK_UUID,
        "objectId": _MOCK_UUID,
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
    },
}
"""The invoke answers: the deployer's client config."""

WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
    "Microsoft.MachineLearningServices/workspaces/mlops-tracking"
)
"""ARM id of the example stacks' workspace; code and environment versions are under it."""

# The input holding a resource's name, where it is not ``<type>Name``.
_NAME_KEYS = {
    "StorageAccount": "accountName",
    "BlobContainer": "containerName",
    "Vault": "vaultName",
    "Registry": "registryName",
    "OnlineEndpoint": "endpointName",
    "OnlineDeployment": "deploymentName",
    "Job": "id",
}
_ASSETS = {"CodeVersion": "codes", "EnvironmentVersion": "environments"}


def principal_id(name: str) -> str:
    """The fixed, obviously fake principal id of the identity of the resource ``name``."""
    return str(uuid5(NAMESPACE_URL, f"mlops-infra-plan:{name}"))


# Any: Pulumi's mock API passes properties as untyped dicts.
class AzureMocks(CloudMocks):
    """:class:`~mlops_infra.offline.CloudMocks` that answer like azure-native.

    Invokes: the client config. Previewed: managed identities (principal ids; user-assigned
    identities given as a list of ids come back as a map). Applied, also: ``name`` from the
    ``<x>Name`` input, ARM ids of code and environment versions, the workspace's MLflow
    tracking URI.

    Args:
        region: The stack's region (Azure answers none: locations come from the stack).
        outputs: Extra outputs per resource type token (merged last), e.g. a promotion
            gate's decision.
        calls: Extra invoke results per token.
        applied: Also answer what ``pulumi up`` assigns
            (see :class:`~mlops_infra.offline.CloudMocks`).
    """

    def invoke_answers(self) -> Mapping[str, Mapping[str, Any]]:
        """The client config, as fixed, obviously fake values."""
        return CLIENT_CONFIG

    def previewed(self, typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Managed identities, as azure-native computes them.

        * A managed identity comes back with its ``principalId``; user-assigned identities,
          given as a list of ids, come back as a map of id to details (echoing the list
          breaks the SDK's output types, failing every output of the resource).
        * A user-assigned identity resource has a ``principalId``.
        """
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
                reshaped["principalId"] = principal_id(name)
                reshaped["tenantId"] = TENANT
            outputs["identity"] = reshaped
        if typ == "azure-native:managedidentity:UserAssignedIdentity":
            outputs["principalId"] = principal_id(name)
            outputs["clientId"] = _MOCK_UUID
        return outputs or None

    def assigned(
        self, typ: str, name: str, resource_id: str | None, state: dict[str, Any]
    ) -> str | None:
        """``name`` from the ``<x>Name`` input, asset ids, the workspace's tracking URI."""
        kind = typ.rsplit(":", 1)[-1]
        asset = _ASSETS.get(kind)
        if asset is not None:
            # Code and environment versions: the ARM ids Azure returns.
            resource_id = (
                f"{WORKSPACE_ID}/{asset}/{state.get('name')}/versions/{state.get('version')}"
            )
        given = state.get(_NAME_KEYS.get(kind, kind[:1].lower() + kind[1:] + "Name"))
        if typ == "azure-native:resources:ResourceGroup":
            given = RESOURCE_GROUP
        state.setdefault("name", given or name)
        if typ == "azure-native:machinelearningservices:Workspace":
            state["mlFlowTrackingUri"] = "azureml://westeurope.api.azureml.ms/mlflow/v1.0" + (
                _workspace_id(state.get("workspaceName"))
            )
        return resource_id


def _workspace_id(workspace: object) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{workspace}"
    )
