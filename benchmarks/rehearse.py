"""Rehearse overhead: the `dev` (AWS) pipeline rehearsed against `make up`'s local pipeline run.

Both run the same four steps (featurize, train, evaluate, register) of the same components
on this machine, each against its own MLflow server:

* ``make up``'s run: the local backend's runner (:func:`run_pipeline`), as ``pulumi up``
  of the ``local`` stack calls it, with the stack's package folder and data;
* rehearse: ``mlops-infra rehearse --stack dev``'s pipeline (the generated SageMaker
  definition interpreted, every channel staged from moto and every ``model.tar.gz``
  uploaded back, each step in the runtime image's virtualenv), from its first step to
  its last.

The virtualenv cache is warmed first (a build happens once per requirement set, not per
run). Run: ``.venv/bin/python benchmarks/rehearse.py``; ends with
``rehearse_ratio: <rehearse pipeline / local pipeline>`` (target ≤ 1.5).
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "components"))

from mlops_infra.backends.local.runner import RunRequest, StepRequest, run_pipeline  # noqa: E402
from mlops_infra.rehearse import rehearse  # noqa: E402
from mlops_infra.rehearse.emulators import tracking_server  # noqa: E402
from mlops_infra.rehearse.processes import Processes  # noqa: E402
from mlops_infra.specs.loading import load_stack_file  # noqa: E402
from mlops_infra.versioning import pipeline_manifest, resolve_data_path  # noqa: E402


def local_pipeline_seconds(workdir: Path) -> float:
    """Wall seconds of the local runner running the `local` stack's pipeline."""
    spec = load_stack_file(REPO / "stacks" / "Pulumi.local.yaml")
    pipeline = spec.pipelines[0]
    manifest = pipeline_manifest(pipeline, REPO)
    package = workdir / "package"
    shutil.copytree(REPO / "components", package / "code")
    steps = [
        StepRequest(
            name=step.name,
            component=step.component,
            depends_on=tuple(step.depends_on),
            params={**pipeline.parameters, **step.parameters},
        )
        for step in pipeline.ordered_steps()
    ]
    data = {name: str(resolve_data_path(ref, REPO)) for name, ref in pipeline.data.items()}
    processes = Processes()
    try:
        with tracking_server(
            processes,
            workdir=workdir / "tracking",
            artifact_root=(workdir / "artifacts").as_uri(),
            environment={"PATH": "/usr/bin:/bin"},
        ) as tracking:
            request = RunRequest(
                pipeline=pipeline.name, version=manifest.version, manifest=manifest.as_dict(),
                steps=steps, package=package, runs_dir=workdir / "runs",
                tracking_url=tracking.url, model_name=pipeline.registered_model,
                project_dir=REPO, stack="local", environment="dev", data=data,
            )  # fmt: skip
            started = time.monotonic()
            run_pipeline(request, lambda line: print(f"  local: {line}", flush=True))
            return time.monotonic() - started
    finally:
        processes.close()


def rehearse_pipeline_seconds() -> float:
    """Wall seconds of rehearse's `dev` pipeline, first step to last."""
    report = rehearse("dev", project_dir=REPO, out=io.StringIO())
    return sum(report.pipelines.values())


def main() -> int:
    """Prints both timings and the ratio."""
    print("warming the image environments (one rehearse of dev)...", flush=True)
    rehearse_pipeline_seconds()
    rehearsed = rehearse_pipeline_seconds()
    with tempfile.TemporaryDirectory() as scratch:
        local = local_pipeline_seconds(Path(scratch))
    print(f"local pipeline (make up's runner): {local:.1f}s")
    print(f"rehearse dev pipeline:             {rehearsed:.1f}s")
    print(f"rehearse_ratio: {rehearsed / local:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
