"""Foundation: the shared network, container registry and keys every other component uses."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from mlops_infra.errors import BackendError
from mlops_infra.resources._component import (
    TYPE_PREFIX,
    Backend,
    BuildContext,
    component_inputs,
    start_build,
)
from mlops_infra.resources.target import Target
from mlops_infra.specs._flavored import FlavoredSpec

__all__ = [
    "Foundation",
    "FoundationArgs",
    "FoundationBackend",
    "FoundationRef",
    "refuse_endpoint_list",
]


@dataclass(frozen=True, kw_only=True)
class FoundationRef:
    """Plain references to the shared infrastructure; ``None`` where the cloud has none."""

    network_id: pulumi.Input[str | None] = None
    """Network (VPC, VPC network, virtual network) workloads run in; ``None``: cloud default."""

    private_subnet_ids: pulumi.Input[Sequence[str] | None] = None
    """Private subnets for workloads."""

    security_group_ids: pulumi.Input[Sequence[str] | None] = None
    """Firewall groups attached to workloads."""

    registry_url: pulumi.Input[str | None] = None
    """Container registry for the stack's images."""

    encryption_key: pulumi.Input[str | None] = None
    """Customer-managed key for secrets and other data the foundation owns."""

    service_ranges: Mapping[str, pulumi.Input[str]] = field(
        default_factory=dict[str, pulumi.Input[str]]
    )
    """Names of the address ranges a created network reserves for managed services, by
    use (GCP: ``sql``, the Private Service Access range Cloud SQL instances are placed in);
    empty where the network was not created."""

    prerequisites: Sequence[pulumi.Resource] = ()
    """Resources every other component's children wait for (the cloud APIs a fresh GCP
    project must enable first); ``BuildContext.opts`` adds them to ``depends_on``."""


@dataclass(frozen=True, kw_only=True)
class FoundationArgs:
    """Arguments of :class:`Foundation`: its settings come from the target."""

    target: Target = field(default_factory=Target)
    """Cloud, environment, and the network/registry/secrets/identity settings."""

    uses: frozenset[str] = frozenset()
    """``<kind>/<flavor>`` of every component built on this foundation (e.g.
    ``training_cluster/batch``), so that a created network reaches what they use (on AWS:
    the interface endpoints; a Batch pool's ECS agent needs its own). :class:`MlopsStack`
    fills it from the spec; a stack composed by hand declares it."""


class FoundationBackend(Backend, ABC):
    """Implements :class:`Foundation` on one cloud."""

    @abstractmethod
    def create(self, ctx: BuildContext[FoundationArgs]) -> FoundationRef:
        """Creates the shared infrastructure as children of ``ctx.component``."""


class Foundation(pulumi.ComponentResource):
    """Shared infrastructure: network, container registry, secret-encryption key."""

    def __init__(
        self, name: str, args: FoundationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Creates the shared infrastructure named ``name``."""
        super().__init__(f"{TYPE_PREFIX}Foundation", name, component_inputs(args.target), opts)
        # network.options are the foundation flavor's options (the cloud's only flavor).
        spec = FlavoredSpec(options=dict(args.target.network.options))
        context, backend = start_build(self, "foundation", FoundationBackend, name, args, spec=spec)
        self._ref: FoundationRef = backend.create(context)
        self._registry_url: pulumi.Output[str | None] = pulumi.Output.from_input(
            self.ref.registry_url
        )
        self._network_id: pulumi.Output[str | None] = pulumi.Output.from_input(self.ref.network_id)
        self.register_outputs({"registry_url": self.registry_url, "network_id": self.network_id})

    @property
    def ref(self) -> FoundationRef:
        """References to pass to the other components."""
        return self._ref

    @property
    def registry_url(self) -> pulumi.Output[str | None]:
        """Container registry URL, or ``None`` where none is created."""
        return self._registry_url

    @property
    def network_id(self) -> pulumi.Output[str | None]:
        """Network id, or ``None`` for the cloud's default network."""
        return self._network_id


def refuse_endpoint_list(target: Target, how: str) -> None:
    """For clouds without per-service endpoints: refuses ``network.endpoints``.

    Args:
        target: The stack's target.
        how: How this cloud's network reaches the cloud's APIs instead.

    Raises:
        BackendError: ``network.endpoints`` is set.
    """
    if target.network.endpoints is not None:
        msg = (
            f"network.endpoints {list(target.network.endpoints)}: {target.cloud} creates "
            f"no per-service endpoints ({how}); remove it"
        )
        raise BackendError(msg)
