"""``rehearse(stack)``: capture the stack's deployment and run it here, then clean up."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TextIO

from mlops_infra.rehearse.capture import capture
from mlops_infra.rehearse.context import Faults, RehearsalContext
from mlops_infra.rehearse.environments import VenvCache
from mlops_infra.rehearse.processes import Processes, interrupts_raise
from mlops_infra.rehearse.registry import rehearsal_for
from mlops_infra.rehearse.report import Report

__all__ = ["VENV_CACHE", "rehearse"]

VENV_CACHE = Path(".mlops") / "rehearse" / "venvs"
"""Image environments, relative to the project."""

_BASE_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "UV_CACHE_DIR", "PIP_CACHE_DIR")


def _quiet_libraries() -> None:
    """Keeps the report readable: library chatter that says nothing about the stack."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("mlflow.tracking.request_header.registry", "azure.ai.ml", "azure"):
        logging.getLogger(name).setLevel(logging.ERROR)


def rehearse(
    stack: str,
    *,
    project_dir: Path,
    out: TextIO,
    faults: Faults | None = None,
    keep: bool = False,
) -> Report:
    """Runs what ``pulumi up`` would deploy for ``stack`` on this machine.

    Args:
        stack: Stack name (``stacks/Pulumi.<stack>.yaml``).
        project_dir: Project root.
        out: Where progress and results are printed.
        faults: Faults to inject (tests).
        keep: Keep the run's folder (logs, container paths) instead of deleting it.

    Raises:
        RehearsalError: a step, gate or serving container broke its contract.
        MlopsError: the stack's program failed.
    """
    started = time.monotonic()
    _quiet_libraries()
    deployment = capture(stack, project_dir)
    report = Report(stack=stack, cloud=deployment.spec.cloud, out=out)
    report.line(f"captured {len(deployment.run.registrations)} resources of {stack!r}")
    workdir = Path(tempfile.mkdtemp(prefix=f"rehearse-{stack}-"))
    processes = Processes()
    try:
        with interrupts_raise():
            ctx = RehearsalContext(
                deployment=deployment,
                workdir=workdir,
                processes=processes,
                venvs=VenvCache(deployment.project_dir / VENV_CACHE),
                report=report,
                base_environment={
                    **{k: os.environ[k] for k in _BASE_VARIABLES if k in os.environ},
                    # No __pycache__ written into mounted code folders (and uploaded back).
                    "PYTHONDONTWRITEBYTECODE": "1",
                    # Offline, MLflow 3's telemetry thread fails to start and pops its session
                    # variable from os.environ while the step's requests copy the environment:
                    # a step failed with KeyError '_MLFLOW_TELEMETRY_SESSION_ID'. Opt out, as
                    # MLflow documents (docs/classic-ml/usage-tracking).
                    "MLFLOW_DISABLE_TELEMETRY": "true",
                },
                faults=faults or Faults(),
            )
            rehearsal_for(deployment.spec.cloud).run(ctx)
    finally:
        processes.close()
        if keep:
            report.line(f"run folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report.line(f"done in {time.monotonic() - started:.1f}s")
    return report
