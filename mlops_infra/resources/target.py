"""Where components deploy: cloud, environment and the settings every component shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mlops_infra.registry import Registry, default_registry
from mlops_infra.specs import (
    ContainerRegistrySpec,
    EnvironmentProfile,
    IdentitySpec,
    LimitsSpec,
    NetworkSpec,
    SecretsSpec,
    StackSpec,
    Tier,
    profile_for,
)

__all__ = ["Target"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Target:
    """The cloud and environment components deploy to, and the stack-wide settings.

    Build one from a :class:`StackSpec` with :meth:`from_spec`, or directly when
    composing components by hand: ``Target(cloud="aws", environment="prod")``.
    """

    cloud: str = "local"
    """Cloud whose backends build the components."""

    environment: str = "local"
    """Environment name; with ``tier`` it decides protection and availability defaults."""

    tier: Tier | None = None
    """Override of the tier the environment name implies."""

    region: str | None = None
    """Cloud region; default: the provider's configured region."""

    protect_stateful: bool | None = None
    """Protect stateful resources; default: the tier's (on in production)."""

    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Extra tags for every resource."""

    project_dir: Path = field(default_factory=Path.cwd)
    """Project root: component code and local data paths are relative to it."""

    stack_name: str | None = None
    """Pulumi stack name, used in names of per-stack data; default: the running stack."""

    limits: LimitsSpec = field(default_factory=LimitsSpec)
    """GPU and cost guardrails."""

    network: NetworkSpec = field(default_factory=NetworkSpec)
    """Network settings."""

    container_registry: ContainerRegistrySpec = field(default_factory=ContainerRegistrySpec)
    """Container registry settings."""

    secrets: SecretsSpec = field(default_factory=SecretsSpec)
    """Secret storage settings."""

    identity: IdentitySpec = field(default_factory=IdentitySpec)
    """Workload identity settings."""

    registry: Registry | None = None
    """Backend registry to resolve flavors in; default: the process-wide one."""

    @classmethod
    def from_spec(
        cls,
        spec: StackSpec,
        *,
        project_dir: Path | None = None,
        stack_name: str | None = None,
        registry: Registry | None = None,
    ) -> Target:
        """Returns the target a whole :class:`StackSpec` deploys to."""
        return cls(
            cloud=spec.cloud,
            environment=spec.environment,
            tier=spec.tier,
            region=spec.region,
            protect_stateful=spec.protect_stateful,
            tags=MappingProxyType(dict(spec.tags)),
            project_dir=project_dir or Path.cwd(),
            stack_name=stack_name,
            limits=spec.limits,
            network=spec.network,
            container_registry=spec.registry,
            secrets=spec.secrets,
            identity=spec.identity,
            registry=registry,
        )

    @property
    def profile(self) -> EnvironmentProfile:
        """The environment's defaults."""
        return profile_for(self.environment, self.tier)

    @property
    def protects_stateful(self) -> bool:
        """Whether stateful resources get ``protect`` and retain-on-delete."""
        if self.protect_stateful is not None:
            return self.protect_stateful
        return self.profile.protect_stateful

    @property
    def backends(self) -> Registry:
        """The registry flavors are resolved in."""
        return self.registry or default_registry()

    @property
    def network_mode(self) -> str:
        """``create``, ``existing`` or ``default`` (the cloud's default network)."""
        if self.network.create:
            return "create"
        return "existing" if self.network.existing is not None else "default"

    def inputs(self) -> dict[str, Any]:
        """What every component registers as its ``target`` input: JSON-safe, defaults resolved.

        The tier and protection are the effective ones, so whatever reads a component's
        inputs (plan facts, policies) judges it by the environment it was built for.
        """
        return {
            "cloud": self.cloud,
            "environment": self.environment,
            "tier": self.profile.tier,
            "protect_stateful": self.protects_stateful,
            "region": self.region,
            "tags": dict(self.tags),
            "limits": self.limits.model_dump(mode="json"),
            "network": self.network_mode,
            "permissions_boundary": self.identity.permissions_boundary,
            "registry_immutable_tags": self.container_registry.immutable_tags,
            "registry_scan_on_push": self.container_registry.scan_on_push,
        }

    def resource_tags(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Tags for a resource: the standard ones, the stack's, then ``extra``."""
        tags = {
            "managed-by": "mlops-infra",
            "mlops-environment": self.environment,
        }
        if self.stack_name:
            tags["mlops-stack"] = self.stack_name
        tags.update(self.tags)
        if extra:
            tags.update(extra)
        return tags
