"""Where Azure components deploy: the foundation's resource group, region and shared ids.

The Azure foundation returns an :class:`AzureFoundationRef`, a :class:`FoundationRef`
that also carries the resource group, subscription and the ids of the shared Key Vault
and registry. Every other Azure component reads them from ``ctx.args.foundation``
(``MlopsStack`` passes the foundation's reference to each), so the core contract stays
cloud-agnostic. The workspace that hosts clusters, jobs, pipelines and endpoints is named
by the tracking reference's ``id`` (:func:`workspace_of`), passed to each explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from mlops_infra.backends.azure._naming import parse_blob_uri
from mlops_infra.errors import BackendError
from mlops_infra.resources import BuildContext, FoundationRef, TrackingRef

__all__ = [
    "AnyContext",
    "AzureFoundationRef",
    "JsonObject",
    "WorkspaceHandle",
    "azure_foundation",
    "storage_account_id",
    "workspace_arm_id",
    "workspace_of",
]

# Any: BuildContext is invariant in its args type, so a helper serving every kind can only
# name the common supertype; the helpers use the context's naming, tags and options only.
AnyContext = BuildContext[Any]
"""The build context of any kind, for helpers shared by kinds."""

# Any: JSON payloads that Azure validates against its own schemas (ARM templates, Azure ML
# component specs and pipeline nodes, decision outputs); Python cannot type them further.
JsonObject = dict[str, Any]
"""A JSON object sent to (or read from) Azure as is."""

_WORKSPACES = "Microsoft.MachineLearningServices/workspaces"


@dataclass(frozen=True, kw_only=True)
class WorkspaceHandle:
    """The stack's Azure Machine Learning workspace, for the components created in it.

    Built from the tracking reference (:func:`workspace_of`): its outputs carry the
    dependency on the workspace, so every resource that names it waits for it.
    """

    name: pulumi.Output[str]
    """Workspace name."""

    resource_group_name: pulumi.Input[str]
    """Its resource group."""

    id: pulumi.Output[str]
    """Its ARM id."""


@dataclass(frozen=True, kw_only=True)
class AzureFoundationRef(FoundationRef):
    """The Azure foundation's reference: the core fields plus what Azure components need."""

    resource_group_name: pulumi.Input[str]
    """Resource group every component of the stack is created in."""

    subscription_id: pulumi.Input[str]
    """Subscription the stack deploys to."""

    tenant_id: pulumi.Input[str]
    """Microsoft Entra tenant of the subscription."""

    unique: pulumi.Input[str]
    """Hex digits hashed from subscription and resource group: the suffix of globally unique
    names (storage accounts, vaults, registries, endpoints)."""

    key_vault_id: pulumi.Input[str]
    """ARM id of the stack's Key Vault."""

    key_vault_uri: pulumi.Input[str]
    """URI of the stack's Key Vault (``https://<name>.vault.azure.net/``)."""

    key_name: pulumi.Input[str]
    """Name of the customer-managed key in the vault."""

    location: str | None = None
    """Region, where the stack names one (``None``: the resource group's / provider's)."""

    private_network: bool = False
    """Whether the stack has a private network (created or adopted): public network access
    is then turned off and private endpoints are created."""

    endpoint_subnet_id: pulumi.Input[str | None] = None
    """Subnet private endpoints are placed in."""

    key_usable_for_storage: bool = False
    """Whether the vault has purge protection, which Azure Storage requires of a CMK vault."""

    registry_id: pulumi.Input[str | None] = None
    """ARM id of the container registry, when one is created."""

    private_dns_zone_ids: Mapping[str, str] | None = None
    """Existing private DNS zones by name (``network.existing.private_dns_zone_ids``): private
    endpoints register there, and no zones or links are created."""

    log_workspace_id: pulumi.Input[str | None] = None
    """ARM id of the stack's Log Analytics workspace, where components send audit logs."""

    deployer_ip_ranges: tuple[str, ...] = ()
    """Public IPv4 ranges ``pulumi up`` runs from (``network.options.deployer_ip_ranges``):
    the private store and workspace accept requests from them (empty: private endpoints
    only)."""


def azure_foundation(foundation: FoundationRef | None, component: str) -> AzureFoundationRef:
    """Returns the Azure foundation reference, or explains how to provide one.

    Raises:
        BackendError: ``foundation`` is missing or was built by another cloud's backend.
    """
    if isinstance(foundation, AzureFoundationRef):
        return foundation
    msg = (
        f"{component}: Azure components need the reference of an Azure Foundation "
        "(resource group, subscription); build a Foundation on the azure cloud and pass "
        "its .ref as foundation= (MlopsStack does this)"
    )
    raise BackendError(msg)


def workspace_arm_id(subscription_id: str, resource_group: str, name: str) -> str:
    """ARM id of the Azure ML workspace ``name`` (what the tracking reference's ``id`` holds)."""
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/{_WORKSPACES}/{name}"
    )


def workspace_of(
    tracking: TrackingRef | None, foundation: AzureFoundationRef, component: str
) -> WorkspaceHandle:
    """Returns the Azure ML workspace the tracking reference names, or explains how to get one.

    Raises:
        BackendError: ``tracking`` is missing or names no Azure ML workspace.
    """
    if tracking is None or tracking.id is None:
        msg = (
            f"{component}: Azure ML compute, jobs, pipelines and endpoints live in the stack's "
            "Azure Machine Learning workspace, which the azureml tracking server creates; pass "
            "that TrackingServer's .ref as tracking= (MlopsStack does)"
        )
        raise BackendError(msg)
    workspace_id = pulumi.Output.from_input(tracking.id)
    return WorkspaceHandle(
        name=workspace_id.apply(lambda i: _workspace_name(i, component)),
        resource_group_name=foundation.resource_group_name,
        id=workspace_id,
    )


def _workspace_name(workspace_id: str, component: str) -> str:
    prefix, sep, name = workspace_id.rpartition("/")
    if not sep or not prefix.endswith(_WORKSPACES) or not name:
        msg = (
            f"{component}: the tracking reference's id must be an Azure ML workspace ARM id "
            f"(.../providers/{_WORKSPACES}/<name>); got {workspace_id!r}"
        )
        raise BackendError(msg)
    return name


def storage_account_id(
    foundation: AzureFoundationRef, store_uri: pulumi.Input[str]
) -> pulumi.Output[str]:
    """ARM id of the storage account behind the store URI (in the stack's resource group)."""
    return pulumi.Output.all(
        foundation.subscription_id, foundation.resource_group_name, store_uri
    ).apply(lambda parts: _account_id(str(parts[0]), str(parts[1]), str(parts[2])))


def _account_id(subscription_id: str, resource_group: str, store_uri: str) -> str:
    location = parse_blob_uri(store_uri)
    if location is None:
        msg = (
            f"Azure ML keeps artifacts in an Azure Blob store in the stack's resource group; "
            f"got store {store_uri!r}"
        )
        raise BackendError(msg)
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.Storage/storageAccounts/{location.account_name}"
    )
