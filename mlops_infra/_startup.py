"""No garbage collection while the package imports itself.

Importing mlops-infra builds hundreds of classes, pydantic validators and schemas that
live as long as the process. Collections during that time find next to no garbage but
rescan everything imported so far, the cloud SDK and Pulumi included: on a 2-CPU
machine about a quarter of a program's start was spent in them (``benchmarks/README.md``).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Generator

__all__ = ["collection_paused"]


@contextlib.contextmanager
def collection_paused() -> Generator[None]:
    """Disables automatic collection for the block, if it was enabled, and enables it after.

    What the block allocated is then moved to the oldest generation unscanned
    (``gc.freeze`` and ``gc.unfreeze``: two list moves). Left young, it would all be
    scanned by the first collection after the block, again by the next older one, and
    cost the package's import 70-84 ms instead of 2-7 ms (``-X importtime``, 2-CPU
    machine). Objects that were young before the block age with it: garbage among them
    is collected by the next full collection instead of a young one; nothing is kept
    from collection. Skipped when the process has frozen objects of its own (a server
    about to fork): ``gc.unfreeze`` would release them too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
