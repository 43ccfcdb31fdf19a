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
    """Disables automatic collection for the block, if it was enabled, and enables it after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
