"""The garbage-collection policy of a synthesis: no automatic collection while it runs.

Pulumi keeps every pending registration alive until the program ends (tens of KiB per
resource), and the program allocates many short-lived objects per resource. CPython's
collections rescan that growing heap: even with thresholds raised 30-fold and everything
alive at the start frozen (the policy before this one), collection took 6 % of a
67-resource synthesis and 23-28 % of a 1,500-6,000-resource one, so the time per resource
grew with the stack. Nearly everything is freed by reference counting; what only a
collection frees, cyclic garbage, is little: with no automatic collection the peak Python
memory of a synthesis was 5 % higher on the fake cloud (254 vs 242 MiB at 6,007 resources)
and 15 % on AWS (209 vs 183 MiB at 1,415), and the time per resource stays flat
(``benchmarks/README.md``). Most of that garbage was the SDK's own, a cycle per check for
unknown values; :mod:`~mlops_infra.offline.unknowns` leaves none, and a dev synthesis
without collection now peaks where plain Pulumi does (4.80 vs 4.82 MiB).

The policy: automatic collection is off while a program synthesizes (and, in the
program's own process, for the rest of the process, which only runs the program); an
explicit ``gc.collect()`` still works.

At exit, CPython tears the modules down and collects the whole heap, several times, on
the way: 0.5-0.9 s of a 1.3-3 s ``mlops-infra plan`` process. :func:`freeze_at_exit`
freezes the heap just before, so those collections scan nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Generator

__all__ = ["apply_synthesis_policy", "freeze_at_exit", "synthesis_policy"]

_depth = 0
_applied = False
_freezes_at_exit = False


def apply_synthesis_policy() -> None:
    """Turns automatic collection off for the rest of the process, and freezes at exit.

    For a process that only runs the program (``pulumi up`` runs it in its own process,
    and registrations go on after the program function returns). Once per process, and
    not inside :func:`synthesis_policy`, which restores what it changed.
    """
    global _applied  # noqa: PLW0603 - once per process
    if _applied or _depth:
        return
    _applied = True
    gc.disable()
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
    """No automatic collection for the block; it is on again after, if it was before."""
    global _depth  # noqa: PLW0603 - nested runs share one policy
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    enabled = gc.isenabled()
    _depth = 1
    gc.disable()
    try:
        yield
    finally:
        _depth = 0
        if enabled:
            gc.enable()
