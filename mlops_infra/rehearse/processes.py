"""Child processes of a rehearsal: each in its own process group, all stopped on exit.

Emulators, the tracking server, steps and serving containers run as children in new
sessions (so a terminal's Ctrl-C reaches only the rehearsal, which then stops them in
order). :meth:`Processes.close` ends every group still running, also after an error or a
``KeyboardInterrupt``; nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = ["Processes", "StepResult", "interrupts_raise"]

_GRACE_S = 5.0


@dataclass(frozen=True)
class StepResult:
    """How a finished child process ended.

    Attributes:
        returncode: Exit status (negative: killed by that signal).
        log: File holding its standard output and error.
        seconds: Wall time it ran.
        timed_out: Whether it was stopped for running past its limit.
    """

    returncode: int
    log: Path
    seconds: float
    timed_out: bool = False

    def tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of its output."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.rstrip().splitlines()[-lines:])


class Processes:
    """Starts children in their own process groups and stops every one of them on close."""

    def __init__(self) -> None:
        """Creates an empty set of children."""
        self._children: list[subprocess.Popen[bytes]] = []

    def start(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
    ) -> subprocess.Popen[bytes]:
        """Starts ``argv`` in a new session, output to ``log``; returns the process."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            child = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._children.append(child)
        return child

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        timeout_s: float,
    ) -> StepResult:
        """Runs ``argv`` to completion (its group is killed past ``timeout_s``)."""
        started = time.monotonic()
        child = self.start(argv, env=env, cwd=cwd, log=log)
        timed_out = False
        try:
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            self.stop(child)
        return StepResult(
            returncode=child.returncode if child.returncode is not None else -9,
            log=log,
            seconds=time.monotonic() - started,
            timed_out=timed_out,
        )

    def stop(self, child: subprocess.Popen[bytes]) -> None:
        """Stops ``child``'s whole process group: SIGTERM, then SIGKILL after a grace period."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=_GRACE_S)
        # The leader may be gone while members of its group still run.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=_GRACE_S)
        if child in self._children:
            self._children.remove(child)

    def close(self) -> None:
        """Stops every child still running, newest first."""
        for child in reversed(list(self._children)):
            self.stop(child)


@contextlib.contextmanager
def interrupts_raise() -> Generator[None]:
    """Makes SIGINT and SIGTERM raise ``KeyboardInterrupt`` while inside, so cleanup runs.

    Also when the process started with SIGINT ignored (as a background job of a shell).
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise KeyboardInterrupt

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
