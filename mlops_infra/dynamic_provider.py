"""The base class of every dynamic provider here: a provider dies with the engine running it.

The Pulumi CLI runs each provider as a child process and stops it when it is done. If
the CLI itself is killed (SIGKILL, a cancelled CI job), a provider would outlive it —
idle forever, or worse, still running a pipeline. Asking the kernel to deliver SIGTERM
when the parent dies prevents that; the steps a provider runs die with it in turn.
"""

from __future__ import annotations

import os
import signal
import sys

from pulumi.dynamic import ConfigureRequest, ResourceProvider

__all__ = ["EngineBoundProvider", "die_with_parent"]

_PR_SET_PDEATHSIG = 1
_armed = False


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Arranges for ``sig`` when this process's parent exits (once per process; Linux only)."""
    global _armed  # noqa: PLW0603 - once per process
    if _armed or not sys.platform.startswith("linux"):
        return
    import ctypes  # noqa: PLC0415 - Linux only

    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(sig))
    _armed = True
    if os.getppid() == 1:  # the parent died before we asked: do now what the kernel would
        os.kill(os.getpid(), sig)


class EngineBoundProvider(ResourceProvider):
    """A dynamic provider whose process exits when the Pulumi engine that started it dies.

    Pulumi calls ``configure`` once when it loads a provider in the provider process, so
    that is where the process is tied to its parent.
    """

    def configure(self, req: ConfigureRequest) -> None:
        """Ties the provider process to the engine (see :func:`die_with_parent`)."""
        del req
        die_with_parent()
