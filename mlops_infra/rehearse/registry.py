"""Where each cloud's rehearsal lives: its descriptor's ``rehearsal`` path, imported on first use.

Rehearsing is cloud-specific knowledge, kept with the cloud's backend; the core reaches it
through the cloud's descriptor (:attr:`mlops_infra.registry.CloudInfo.rehearsal`), without
importing any cloud's code until that cloud is rehearsed, and a plugin's cloud can bring one.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

from mlops_infra.registry import FlavorRegistry, default_registry
from mlops_infra.rehearse.context import CloudRehearsal
from mlops_infra.rehearse.errors import RehearsalError

__all__ = ["rehearsal_for"]


def rehearsal_for(cloud: str, registry: FlavorRegistry | None = None) -> CloudRehearsal:
    """The rehearsal of ``cloud``.

    Raises:
        RehearsalError: no rehearsal is known for ``cloud``.
    """
    registry = registry or default_registry()
    descriptors = registry.descriptors()
    known = ", ".join(d.name for d in descriptors if d.rehearsal is not None)
    path = next((d.rehearsal for d in descriptors if d.name == cloud), None)
    if path is None:
        raise RehearsalError("stack", "rehearse", f"cloud {cloud!r} has none; known: {known}")
    factory = typing.cast(
        Callable[[], CloudRehearsal], registry.resolve(path, f"cloud {cloud!r}: rehearsal")
    )
    return factory()
