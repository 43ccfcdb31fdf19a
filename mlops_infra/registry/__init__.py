"""Backend registry: clouds, concept kinds and flavors, filled through entry points."""

from mlops_infra.registry._registry import (
    BUILTIN_KINDS,
    ENTRY_POINT_GROUP,
    CloudInfo,
    Flavor,
    FlavorRegistry,
    Registry,
    default_registry,
)
from mlops_infra.registry._sdk_names import resolve_sdk_names_on_demand

__all__ = [
    "BUILTIN_KINDS",
    "ENTRY_POINT_GROUP",
    "CloudInfo",
    "Flavor",
    "FlavorRegistry",
    "Registry",
    "default_registry",
    "resolve_sdk_names_on_demand",
]
