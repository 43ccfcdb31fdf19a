"""Environments (local, dev, staging, prod, ...) and the defaults each one implies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["ENVIRONMENT_TIERS", "EnvironmentProfile", "Tier", "profile_for"]

Tier = Literal["local", "development", "staging", "production"]
"""How much an environment is trusted with: drives protection and availability defaults."""

ENVIRONMENT_TIERS: tuple[Tier, ...] = get_args(Tier)

_TIER_BY_NAME: dict[str, Tier] = {
    "local": "local",
    "dev": "development",
    "development": "development",
    "test": "development",
    "sandbox": "development",
    "staging": "staging",
    "stage": "staging",
    "qa": "staging",
    "uat": "staging",
    "preprod": "staging",
    "prod": "production",
    "production": "production",
    "prd": "production",
}


@dataclass(frozen=True, slots=True)
class EnvironmentProfile:
    """Defaults that follow from an environment's tier; every one can be overridden in the spec.

    Attributes:
        environment: The environment's name, e.g. ``prod``.
        tier: The tier the name maps to.
        protect_stateful: Stateful resources (buckets, databases, registries, tracking
            data) get Pulumi ``protect`` and retain-on-delete, and cloud deletion protection.
        tracking_auth: The tracking server requires authentication.
        high_availability: Databases and endpoints are spread over zones.
        min_replicas: Default minimum replicas of a serving endpoint.
        require_gate: A serving endpoint must declare a promotion gate.
        wait_for_run: ``pulumi up`` waits for a new pipeline version's run and gates its
            model in the same ``up`` (``PipelineSpec.wait_for_run``).
    """

    environment: str
    tier: Tier
    protect_stateful: bool
    tracking_auth: bool
    high_availability: bool
    min_replicas: int
    require_gate: bool
    wait_for_run: bool

    @property
    def is_production(self) -> bool:
        """Whether this is a production environment."""
        return self.tier == "production"


def profile_for(environment: str, tier: Tier | None = None) -> EnvironmentProfile:
    """Returns the defaults of ``environment``; ``tier`` overrides the tier its name implies.

    Unknown names (``perf``, ``eu-dev``) are development environments unless a tier is given.
    """
    resolved: Tier = tier or _TIER_BY_NAME.get(environment, "development")
    production = resolved == "production"
    return EnvironmentProfile(
        environment=environment,
        tier=resolved,
        protect_stateful=production,
        tracking_auth=resolved != "local",
        high_availability=production,
        min_replicas=2 if production else 1,
        require_gate=resolved in ("staging", "production"),
        wait_for_run=resolved in ("local", "development"),
    )
