"""Helpers shared by the benchmark scripts: timing, peak memory, medians, the machine."""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
"""The repository root (scripts run from any folder)."""

STACKS = REPO / "stacks"
"""The stack files."""

__all__ = [
    "REPO",
    "STACKS",
    "child_env",
    "in_repo",
    "least_squares",
    "machine",
    "median",
    "peak_memory",
    "timed",
]


def child_env() -> dict[str, str]:
    """The environment for a measured child interpreter: this one's, bytecode caches written.

    The scripts time fresh interpreters "with warm bytecode caches" (an untimed run first).
    With ``PYTHONDONTWRITEBYTECODE`` set, as on the benchmark machine, that run writes none,
    so every timed run compiled mlops-infra from source while the virtualenv's packages
    (``pulumi``, ``pulumi_aws``: bytecode compiled at install) did not: an unfair side.
    An installed mlops-infra has its bytecode compiled too (pip and ``uv --compile-bytecode``).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return float(statistics.median(values))


def timed(function: Callable[[], Any]) -> float:
    """Seconds ``function()`` takes, after a full garbage collection (same start each time)."""
    gc.collect()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def peak_memory(function: Callable[[], Any]) -> int:
    """Peak bytes allocated by Python while ``function()`` runs (``tracemalloc``).

    Measured in its own run: tracing slows a program down several times, so timings are
    never taken with it on.
    """
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """``(slope, intercept)`` of the least-squares line through ``(xs, ys)``."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return slope, mean_y - slope * mean_x


def machine() -> str:
    """One line: CPU count, CPU model, Python version, OS."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


@contextlib.contextmanager
def in_repo() -> Generator[None]:
    """Runs the block from the repository root (programs resolve ``components/`` from it)."""
    previous = Path.cwd()
    os.chdir(REPO)
    try:
        yield
    finally:
        os.chdir(previous)


def flush() -> None:
    """Flushes stdout (progress lines show up while a long benchmark runs)."""
    sys.stdout.flush()
