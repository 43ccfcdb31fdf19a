"""Options of the Azure flavors (the ``options:`` block of an Azure stack's specs).

Pure data: imported by ``plugin.py`` on every ``mlops-infra validate``, so it imports no
cloud SDK. Every default is a behaviour documented on its field; security-relevant
defaults are the tight ones.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from mlops_infra.specs import Spec

__all__ = [
    "AzureClusterOptions",
    "AzureEndpointOptions",
    "AzureFoundationOptions",
    "AzureJobOptions",
    "AzurePipelineOptions",
    "AzureStoreOptions",
    "AzureTrackingOptions",
    "AzureWorkloadOptions",
    "RegistrySku",
    "StorageSku",
    "check_deployer_ranges",
]

RegistrySku = Literal["Basic", "Standard", "Premium"]
"""Azure Container Registry tiers."""

StorageSku = Literal[
    "Standard_LRS",
    "Standard_ZRS",
    "Standard_GRS",
    "Standard_GZRS",
    "Standard_RAGRS",
    "Standard_RAGZRS",
]
"""Storage account redundancy (StorageV2 standard tiers)."""

_LOCATION = r"^[a-z][a-z0-9]{1,40}$"
_MAX_DEPLOYER_RANGES = 100
"""Storage accounts take up to 100 IP rules (the lower of the two services' documented
limits; an ML workspace takes 200)."""
_RESOURCE_GROUP = r"^[-A-Za-z0-9_.()]{1,89}[-A-Za-z0-9_()]$"


class AzureFoundationOptions(Spec):
    """Options of the Azure foundation (resource group, network, ACR, Key Vault).

    The foundation has no spec block in a stack file, so these options take effect when
    the foundation flavor is used programmatically (a registry built with other option
    defaults); stack files get the defaults below.
    """

    resource_group_name: str | None = Field(default=None, pattern=_RESOURCE_GROUP)
    """Adopt this existing resource group instead of creating one."""

    location: str | None = Field(default=None, pattern=_LOCATION)
    """Azure region (``westeurope``); default: the stack's ``region``, else the provider's."""

    registry_sku: RegistrySku | None = None
    """ACR tier; default: ``Premium`` where it is needed (a private network, or production,
    for retention and quarantine policies and private access), else ``Standard``."""

    key_vault_sku: Literal["standard", "premium"] = "standard"
    """Key Vault tier (``premium`` keeps keys in HSMs)."""

    purge_protection: bool | None = None
    """Key Vault purge protection (cannot be turned off again); default: on when stateful
    resources are protected (production). Storage CMK needs it."""

    key_rotation_days: int = Field(default=365, ge=28, le=3650)
    """Rotate the customer-managed key this many days after it was created."""

    log_retention_days: int | None = Field(default=None, ge=30, le=730)
    """Days the stack's Log Analytics workspace keeps the resources' audit logs; default: 90
    in production, else 30 (within the retention included in the ingestion price)."""

    deployer_ip_ranges: tuple[str, ...] = ()
    """Public IPv4 addresses or CIDR ranges ``pulumi up`` runs from (a hosted runner's fixed
    egress addresses), in a stack with a created network (``network.options``; an adopted
    network is deployed from its own runners): the artifact store and the ML workspace
    then accept requests from these addresses besides their private endpoints (the storage
    firewall's IP rules; the workspace's public access *enabled from selected IP
    addresses*), so ``up`` can upload code packages and the gate can call the workspace's
    MLflow API from outside the network. The vault and the registry stay private. Given as
    ``network.options.deployer_ip_ranges``. Requests from the store's own Azure region
    bypass IP rules (Azure Storage), so the runner must run elsewhere or inside the network;
    a stack serving online endpoints is deployed from inside (``check`` says why)."""

    @field_validator("deployer_ip_ranges")
    @classmethod
    def _public_ipv4(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_deployer_ranges(value)


def check_deployer_ranges(ranges: tuple[str, ...]) -> tuple[str, ...]:
    """Validates deployer ranges: public IPv4 addresses or ranges, distinct, at most 100.

    Azure's IP rules take public internet IPv4 addresses only (no private or reserved
    ranges, no IPv6):
    https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security ,
    https://learn.microsoft.com/en-us/azure/machine-learning/how-to-configure-private-link
    (restrictions for IP network rules)

    Raises:
        ValueError: naming the value given and what is allowed.
    """
    if len(ranges) > _MAX_DEPLOYER_RANGES:
        msg = f"{len(ranges)} ranges given; allowed: at most {_MAX_DEPLOYER_RANGES}"
        raise ValueError(msg)
    seen: set[ipaddress.IPv4Network] = set()
    for text in ranges:
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            msg = (
                f"{text!r} is not an IPv4 address or range; allowed: a public address "
                "(52.10.20.30) or CIDR range (52.10.20.0/24) with no host bits set"
            )
            raise ValueError(msg) from None
        if not isinstance(network, ipaddress.IPv4Network) or not network.is_global:
            msg = (
                f"{text!r} is not allowed; allowed: public internet IPv4 addresses or ranges "
                "(Azure IP rules take no private, reserved or IPv6 addresses)"
            )
            raise ValueError(msg)
        if network in seen:
            msg = f"{text!r} is given twice; allowed: each range once"
            raise ValueError(msg)
        seen.add(network)
    return ranges


class AzureStoreOptions(Spec):
    """Options of the ``blob`` artifact store (a StorageV2 account and a container)."""

    account_name: str | None = Field(default=None, pattern=r"^[a-z0-9]{3,24}$")
    """Physical storage account name (globally unique); default: derived from the stack and
    a hash of the subscription and resource group."""

    sku: StorageSku | None = None
    """Redundancy; default: ``Standard_ZRS`` in production (zone-redundant), else
    ``Standard_LRS``."""

    shared_key_access: bool = False
    """Allow account-key (shared key) and SAS authorization. Off: Microsoft Entra ID only.

    Turn it on only where a tool needs the account key: pulumi-azure-native's
    ``storage.Blob`` uploads with the account key, so the ``azureml`` job and pipeline
    flavors, which upload their code package, need it (see their docs)."""

    soft_delete_days: int = Field(default=7, ge=1, le=365)
    """Days deleted blobs and containers can be restored."""

    change_feed_retention_days: int | None = Field(default=90, ge=1, le=146000)
    """Days the change feed (an audit log of every change) is kept; ``None`` keeps it forever."""

    key_grant_wait_s: int = Field(default=300, ge=0, le=1800)
    """With a customer-managed key: seconds ``up`` waits, once, between granting the
    account's identity access to the key and creating the account, for the role assignment
    to take effect (Azure documents up to 10 minutes); ``0`` does not wait."""


class AzureTrackingOptions(Spec):
    """Options of the ``azureml`` tracking server (an Azure Machine Learning workspace)."""

    workspace_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$")
    """Workspace name; default: the component's name."""

    managed_network: (
        Literal["Disabled", "AllowInternetOutbound", "AllowOnlyApprovedOutbound"] | None
    ) = None
    """Workspace managed network isolation; default: ``AllowInternetOutbound`` (computes
    without public IPs in a Microsoft-managed virtual network) unless the stack brings its
    own network, where computes join its private subnet (``Disabled``)."""

    public_network_access: bool | None = None
    """Reach the workspace (and its MLflow API) from the internet, with Entra ID auth;
    default: off when the stack has a private network (private endpoint only), else on."""

    high_business_impact: bool | None = None
    """HBI workspace (less diagnostic data collected, encrypted local scratch disks);
    default: on in production."""

    image_build_compute: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9-]{1,15}$")
    """Compute cluster (its AmlCompute name, e.g. a stack cluster's name) that builds
    environment images; needed when the registry is private (a stack with a network)."""


class AzureClusterOptions(Spec):
    """Options of the ``amlcompute`` training cluster."""

    cpu_vm_size: str = Field(default="Standard_D4s_v3", pattern=r"^Standard_[A-Za-z0-9_]+$")
    """VM size of CPU clusters (no ``gpu`` and no ``instance_type`` in the spec)."""


class AzureWorkloadOptions(Spec):
    """What Azure ML jobs run in: their environment (image) and where they are filed."""

    environment: str | None = Field(default=None, min_length=1)
    """ARM id (or ``azureml://registries/...`` URI) of an existing environment version to run
    in, when the spec names no ``image``; default: an environment built from ``base_image``
    and ``pip_packages``, versioned by its content."""

    base_image: str = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"
    """Base image of the built environment."""

    pip_packages: tuple[str, ...] = ("azureml-mlflow>=1.60",)
    """Packages installed in the built environment besides the components' requirement
    files: MLflow with the Azure ML plugin. The runtime entry point needs no package: it is
    shipped in the code asset (no ``mlops-infra`` from an index)."""

    python_version: str = Field(default="3.11", pattern=r"^3\.\d{1,2}$")
    """Python of the built environment."""

    experiment_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,255}$")
    """Experiment the runs are filed under; default: the job's or pipeline's name."""

    serverless_instance_type: str = Field(
        default="Standard_D4s_v3", pattern=r"^Standard_[A-Za-z0-9_]+$"
    )
    """VM size of work that names no cluster (Azure ML serverless compute)."""


class AzureJobOptions(AzureWorkloadOptions):
    """Options of the ``azureml`` training job (a CommandJob)."""


class AzurePipelineOptions(AzureWorkloadOptions):
    """Options of the ``azureml`` pipeline (component versions, a pipeline job, a schedule)."""


class AzureEndpointOptions(Spec):
    """Options of the ``online-endpoint`` serving endpoint (managed online endpoint)."""

    auth_mode: Literal["AADToken", "Key"] = "AADToken"
    """How callers authenticate: Microsoft Entra ID tokens (no static secret), or keys."""

    public_network_access: bool | None = None
    """Accept scoring requests from the internet (still authenticated by ``auth_mode``);
    default: on when the spec says ``public`` or the stack has no private network (nothing
    could reach a private endpoint then), else off (reached through the workspace's private
    endpoint)."""

    cpu_instance_type: str = Field(default="Standard_DS3_v2", pattern=r"^Standard_[A-Za-z0-9_]+$")
    """Instance type of CPU deployments (no ``gpu`` and no ``instance_type`` in the spec)."""

    egress_public_network_access: bool | None = None
    """Let deployments reach the internet; default: off when the stack has a private
    network, else on."""

    request_timeout_ms: int = Field(default=5000, ge=1000, le=180000)
    """Longest a scoring request may take."""

    scale_out_cpu_percent: int = Field(default=70, ge=10, le=95)
    """Average CPU above which autoscale adds an instance (when max > min replicas)."""
