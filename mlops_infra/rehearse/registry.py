"""Where each cloud's rehearsal lives: a dotted path per cloud, imported on first use.

Rehearsing is cloud-specific knowledge, kept with the cloud's backend; the core reaches it
by cloud name, without importing any cloud's code until that cloud is rehearsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from mlops_infra.registry import FlavorRegistry, default_registry
from mlops_infra.rehearse.context import CloudRehearsal
from mlops_infra.rehearse.errors import RehearsalError

__all__ = ["rehearsal_for"]


def rehearsal_for(cloud: str, registry: FlavorRegistry | None = None) -> CloudRehearsal:
    """The rehearsal of ``cloud``, from its descriptor (``CloudInfo.rehearsal``).

    Raises:
        RehearsalError: the cloud is unknown or offers no rehearsal.
    """
    flavors = registry or default_registry()
    offered = [c.name for c in flavors.descriptors() if c.rehearsal]
    descriptor = next((c for c in flavors.descriptors() if c.name == cloud), None)
    if descriptor is None or descriptor.rehearsal is None:
        known = ", ".join(sorted(offered))
        raise RehearsalError("stack", "rehearse", f"cloud {cloud!r} has none; known: {known}")
    factory = flavors.resolve(descriptor.rehearsal, f"cloud {cloud!r}: rehearsal")
    return cast(Callable[[], CloudRehearsal], factory)()
