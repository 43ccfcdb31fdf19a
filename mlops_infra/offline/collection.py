"""The garbage-collection policy of a synthesis: fewer, cheaper collections of a growing heap.

Pulumi keeps every pending registration alive until the program ends (tens of KiB per
resource), and the program allocates many short-lived objects per resource. With
CPython's default thresholds, its collections rescan that growing heap, and the
imported modules (a cloud SDK alone is hundreds of thousands of objects) on every full
collection: on a 2,000-resource stack, collection was half the synthesis time.

The policy: objects alive when synthesis starts (imports, registries) are frozen, so no
collection scans them, and the youngest generation is collected every
:data:`YOUNG_THRESHOLD` allocations instead of 700. Cyclic garbage lives a little longer
before it is freed; see ``benchmarks/README.md`` for the time and memory it measures.

At exit, CPython tears the modules down and collects the whole heap, several times, on
the way: 0.5-0.9 s of a 1.3-3 s ``mlops-infra plan`` process. :func:`freeze_at_exit`
freezes the heap just before, so those collections scan nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Generator

__all__ = ["YOUNG_THRESHOLD", "apply_synthesis_policy", "freeze_at_exit", "synthesis_policy"]

YOUNG_THRESHOLD = 20_000
"""Allocations (net) between two collections of the youngest generation (CPython: 700)."""

_OLDER_THRESHOLD = 20
"""Collections of a generation between two of the next one (CPython: 10)."""

_depth = 0
_applied = False
_freezes_at_exit = False


def _apply() -> None:
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, _OLDER_THRESHOLD, _OLDER_THRESHOLD)


def apply_synthesis_policy() -> None:
    """Freezes what is alive now and raises the thresholds, for the rest of the process.

    For a process that only runs the program (``pulumi up`` runs it in its own process,
    and registrations go on after the program function returns). Once per process, and
    not inside :func:`synthesis_policy`, which restores what it changed.
    """
    global _applied  # noqa: PLW0603 - once per process
    if _applied or _depth:
        return
    _applied = True
    _apply()
    freeze_at_exit()


def freeze_at_exit() -> None:
    """Has the process skip collecting its heap when it exits (once per process).

    ``gc.freeze`` runs as the last exit handler, before the interpreter tears its modules
    down. Teardown still frees every object that is not in a reference cycle (and runs
    its finalizer); cyclic garbage left at exit is reclaimed with the process's memory
    instead of collected.
    """
    global _freezes_at_exit  # noqa: PLW0603 - once per process
    if _freezes_at_exit:
        return
    _freezes_at_exit = True
    # Handlers run last-registered first: registered early, this runs after the others.
    atexit.register(gc.freeze)


@contextlib.contextmanager
def synthesis_policy() -> Generator[None]:
    """The policy for the block; the previous thresholds are restored and objects unfrozen."""
    global _depth  # noqa: PLW0603 - nested runs share one policy
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    previous = gc.get_threshold()
    _depth = 1
    _apply()
    try:
        yield
    finally:
        _depth = 0
        gc.set_threshold(*previous)
        gc.unfreeze()
