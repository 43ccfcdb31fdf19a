"""Where each cloud's rehearsal lives: a dotted path per cloud, imported on first use.

Rehearsing is cloud-specific knowledge, kept with the cloud's backend; the core reaches it
by cloud name, without importing any cloud's code until that cloud is rehearsed.
"""

from __future__ import annotations

import importlib

from mlops_infra.rehearse.context import CloudRehearsal
from mlops_infra.rehearse.errors import RehearsalError

__all__ = ["REHEARSALS", "rehearsal_for"]

REHEARSALS: dict[str, str] = {
    "aws": "mlops_infra.backends.aws.rehearse:SageMakerRehearsal",
    "gcp": "mlops_infra.backends.gcp.rehearse:CloudWorkflowsRehearsal",
    "azure": "mlops_infra.backends.azure.rehearse:AzureMlRehearsal",
}
"""Cloud name → ``module:Class`` of its rehearsal."""


def rehearsal_for(cloud: str) -> CloudRehearsal:
    """The rehearsal of ``cloud``.

    Raises:
        RehearsalError: no rehearsal is known for ``cloud``.
    """
    target = REHEARSALS.get(cloud)
    if target is None:
        known = ", ".join(sorted(REHEARSALS))
        raise RehearsalError("stack", "rehearse", f"cloud {cloud!r} has none; known: {known}")
    module_name, _, attribute = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    rehearsal: CloudRehearsal = factory()
    return rehearsal
