"""Where Azure components deploy: the foundation's resource group, region and shared ids.

The Azure foundation returns an :class:`AzureFoundationRef`, a :class:`FoundationRef`
that also carries the resource group, subscription and the ids of the shared Key Vault
and registry. Every other Azure component reads them from ``ctx.args.foundation``
(``MlopsStack`` passes the foundation's reference to each), so the core contract stays
cloud-agnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from mlops_infra.errors import BackendError
from mlops_infra.resources import BuildContext, FoundationRef

__all__ = [
    "AnyContext",
    "AzureFoundationRef",
    "JsonObject",
    "WorkspaceHandle",
    "WorkspaceSlot",
    "azure_foundation",
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


@dataclass(frozen=True, kw_only=True)
class WorkspaceHandle:
    """The stack's Azure Machine Learning workspace, for the components created in it."""

    name: str
    """Workspace name (known at program time)."""

    resource_group_name: pulumi.Input[str]
    """Its resource group."""

    id: pulumi.Output[str]
    """Its ARM id."""

    storage_account_id: pulumi.Output[str]
    """ARM id of its storage account (the artifact store's account)."""

    resource: pulumi.Resource
    """The workspace resource: children that need it to exist depend on it."""


@dataclass
class WorkspaceSlot:
    """Holds the workspace once the ``azureml`` tracking server has created it.

    On Azure, compute clusters, jobs, pipelines and endpoints live *inside* the workspace
    that also serves MLflow. The core passes clusters no tracking reference, so the
    tracking server registers its workspace here, on the foundation reference every
    component of the stack shares (``MlopsStack`` builds the tracking server first).
    """

    handle: WorkspaceHandle | None = None
    """The workspace, once created."""


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

    workspace: WorkspaceSlot = field(default_factory=WorkspaceSlot, compare=False)
    """The stack's Azure ML workspace, registered by the ``azureml`` tracking server."""

    key_usable_for_storage: bool = False
    """Whether the vault has purge protection, which Azure Storage requires of a CMK vault."""

    registry_id: pulumi.Input[str | None] = None
    """ARM id of the container registry, when one is created."""


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


def workspace_of(foundation: AzureFoundationRef, component: str) -> WorkspaceHandle:
    """Returns the stack's Azure ML workspace, or explains how to get one.

    Raises:
        BackendError: no ``azureml`` tracking server was built before ``component``.
    """
    handle = foundation.workspace.handle
    if handle is not None:
        return handle
    msg = (
        f"{component}: Azure ML compute, jobs, pipelines and endpoints live in the stack's "
        "Azure Machine Learning workspace, which the azureml tracking server creates; build "
        "the TrackingServer (flavor azureml) with the same foundation first (MlopsStack does)"
    )
    raise BackendError(msg)
