"""Shared infrastructure every concept uses: network, container registry, secrets, identity."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Self

from pydantic import Field, JsonValue, field_validator, model_validator

from mlops_infra.specs._base import Spec, raise_issues

__all__ = [
    "ContainerRegistrySpec",
    "ExistingNetwork",
    "IdentitySpec",
    "LimitsSpec",
    "NetworkSpec",
    "SecretsSpec",
]


class ExistingNetwork(Spec):
    """A network created elsewhere, adopted instead of created."""

    id: str = Field(min_length=1)
    """VPC id / VPC network self-link / virtual network resource id."""

    private_subnet_ids: tuple[str, ...] = Field(min_length=1)
    """Private subnets that workloads are placed in."""

    private_dns_zone_ids: dict[str, str] | None = None
    """Existing private DNS zones to register private endpoints in, by zone name
    (``privatelink.blob.core.windows.net`` → its resource id), for networks whose zones are
    managed centrally (hub and spoke): the stack then creates no zones and no links. Only
    Azure uses it (its README lists the zones)."""


class NetworkSpec(Spec):
    """Where workloads run: a dedicated private network, an adopted one, or the cloud default."""

    create: bool = False
    """Create a dedicated network with private subnets and no public IPs."""

    existing: ExistingNetwork | None = None
    """Adopt this network (exclusive with ``create``)."""

    cidr: str = "10.40.0.0/16"
    """Address range of a created network."""

    zones: int = Field(default=2, ge=1, le=6)
    """Availability zones a created network spans."""

    endpoints: tuple[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")], ...] | None = None
    """Private endpoints of cloud services a created network gets, by the cloud's names
    (AWS: its interface endpoints, see ``backends/aws/README.md``); default: the cloud's
    standard set plus what the stack's components need. Each interface endpoint is billed
    per zone and hour: list fewer to pay less (the backend refuses a list that lacks what a
    component needs). Only AWS uses it."""

    options: dict[str, JsonValue] = Field(default_factory=dict[str, JsonValue])
    """Cloud-specific settings of a created network, validated against the options of the
    cloud's foundation flavor (GCP: the sizes of the private-service ranges, see
    ``backends/gcp/README.md``)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError:
            msg = f"{value!r} is not a network range; allowed: CIDR like 10.40.0.0/16"
            raise ValueError(msg) from None
        if not network.is_private or network.prefixlen < 16 or network.prefixlen > 24:
            msg = f"{value!r} is not allowed; allowed: a private range from /16 to /24"
            raise ValueError(msg)
        return value

    @field_validator("endpoints")
    @classmethod
    def _distinct(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and len(set(value)) != len(value):
            repeated = sorted({name for name in value if value.count(name) > 1})
            msg = f"{repeated} listed more than once; allowed: each endpoint once"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _exclusive(self) -> Self:
        if self.create and self.existing is not None:
            raise_issues(
                [(("existing",), "set either create: true or existing, not both")],
                title="NetworkSpec",
            )
        if self.endpoints is not None and not self.create:
            raise_issues(
                [(("endpoints",), "applies to a created network; set create: true or remove it")],
                title="NetworkSpec",
            )
        if self.options and not self.create:
            raise_issues(
                [(("options",), "applies to a created network; set create: true or remove it")],
                title="NetworkSpec",
            )
        return self


class ContainerRegistrySpec(Spec):
    """A private container registry for training and serving images."""

    create: bool = True
    """Create a registry for the stack's images."""

    immutable_tags: bool = True
    """A tag, once pushed, always names the same image."""

    scan_on_push: bool = True
    """Scan each pushed image for vulnerabilities."""

    keep_images: int = Field(default=50, ge=1, le=10000)
    """Images kept per repository; older untagged ones are deleted."""


class SecretsSpec(Spec):
    """How secrets the stack generates (passwords, tokens) are stored."""

    encryption_key: str | None = None
    """Customer-managed key for the secret store; default: a dedicated key."""

    recovery_window_days: int = Field(default=7, ge=7, le=30)
    """Days a deleted secret can still be restored, where the cloud supports it."""


class IdentitySpec(Spec):
    """Workload identities (roles, service accounts, managed identities)."""

    permissions_boundary: str | None = None
    """Permissions boundary (AWS) attached to every role the stack creates."""

    name_prefix: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,15}$")
    """Prefix of the identities' names, for organisations that require one."""


class LimitsSpec(Spec):
    """Guardrails the policies enforce: what the stack may spend on GPUs."""

    max_gpus_per_node: int = Field(default=8, ge=0, le=16)
    """Most GPUs any one node may have."""

    max_total_gpus: int = Field(default=64, ge=0, le=100000)
    """Most GPUs all clusters and endpoints together may run at full scale."""

    max_hourly_usd: float | None = Field(default=None, gt=0)
    """Most the stack's compute may cost per hour at full scale (list prices)."""
