"""``python -m mlops_infra.runtime.step CONTEXT.json``: run one step's component.

The step's source folder is on ``PYTHONPATH`` (the runner sets it to the immutable
package of the pipeline version), the MLflow environment variables point at the
tracking server, and ``MLFLOW_RUN_ID`` at the pipeline run.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from mlops_infra.runtime.context import StepContext

__all__ = ["main"]


def _die_with_parent() -> None:
    """Asks Linux to kill this step if its runner dies (an interrupted ``pulumi up``)."""
    if os.environ.get("MLOPS_DIE_WITH_PARENT") != "1" or not sys.platform.startswith("linux"):
        return
    import ctypes  # noqa: PLC0415 - Linux only

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the runner died before we asked
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    """Loads the context and runs the component's ``run(ctx)``; returns the exit code."""
    _die_with_parent()
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m mlops_infra.runtime.step CONTEXT.json COMPONENT", file=sys.stderr)
        return 2
    ctx = StepContext.load(Path(args[0]))
    module = importlib.import_module(args[1])
    run = getattr(module, "run", None)
    if not callable(run):
        print(f"component {args[1]!r} has no run(ctx) function", file=sys.stderr)
        return 2
    print(f"[{ctx.pipeline}/{ctx.step}] running {args[1]} (gpus: {ctx.gpus or 'none'})", flush=True)
    metrics = run(ctx)
    if isinstance(metrics, Mapping) and metrics:
        ctx.log_metrics(metrics)  # pyright: ignore[reportUnknownArgumentType]
        print(f"[{ctx.pipeline}/{ctx.step}] metrics: {dict(metrics)}", flush=True)  # pyright: ignore[reportUnknownArgumentType]
    return 0


if __name__ == "__main__":
    sys.exit(main())
