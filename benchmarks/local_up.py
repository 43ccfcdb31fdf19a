"""Local deployment latency: `pulumi up` of the local stack against the hand-run floor.

Measured in one run, on this machine:

* cold ``up`` to first prediction: a new stack (new tracking server, pipeline run,
  model server) until the endpoint answers;
* no-change ``up``: the same stack again (nothing to do);
* the floor: what a person does by hand for the serving part alone — start
  ``mlflow server``, wait for ``/health``; start ``mlflow models serve`` on the model
  the cold ``up`` registered, wait for ``/ping``.

The ratio cold-up / floor shows what the infrastructure-as-code path costs on top of
the unavoidable process starts; the pipeline's own training time is part of the cold
``up`` and not of the floor, so it is reported separately from the run's timings.

Run: ``.venv/bin/python benchmarks/local_up.py [--repeat N]`` (needs ``scripts/install-pulumi``).
Ends with the headline line ``local_up_ratio: <cold up / floor>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlops_infra.backends.local.process import (  # noqa: E402
    child_environment,
    find_free_port,
    start_process,
    stop_process,
    wait_for_http,
)
from mlops_infra.testing.engine import EngineHarness  # noqa: E402
from tests.integration.local_support import (  # noqa: E402
    configure,
    make_project,
    post,
    serving_example,
    stack_spec,
)


def _timed_up(harness: EngineHarness) -> float:
    started = time.perf_counter()
    harness.up()
    return time.perf_counter() - started


def _serve_floor(workdir: Path, tracking_url: str) -> tuple[float, float]:
    """Starts an mlflow server and a model server by hand; returns both start times."""
    python = sys.executable
    env = child_environment(python, {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    port = find_free_port("127.0.0.1")
    started = time.perf_counter()
    record = start_process(
        [
            python,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'floor.db'}",
            "--artifacts-destination",
            str(workdir / "floor-artifacts"),
            "--serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        pid_file=workdir / "floor-tracking.pid",
        log_file=workdir / "floor-tracking.log",
        env=env,
        cwd=workdir,
    )
    wait_for_http(
        f"http://127.0.0.1:{port}/health",
        timeout_s=120,
        record=record,
        log_file=workdir / "floor-tracking.log",
    )
    tracking_s = time.perf_counter() - started
    stop_process(workdir / "floor-tracking.pid")

    port = find_free_port("127.0.0.1")
    started = time.perf_counter()
    record = start_process(
        [
            python,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            "models:/diagnosis/1",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        pid_file=workdir / "floor-model.pid",
        log_file=workdir / "floor-model.log",
        env={**env, "MLFLOW_TRACKING_URI": tracking_url},
        cwd=workdir,
    )
    wait_for_http(
        f"http://127.0.0.1:{port}/ping",
        timeout_s=180,
        record=record,
        log_file=workdir / "floor-model.log",
    )
    serving_s = time.perf_counter() - started
    stop_process(workdir / "floor-model.pid")
    return tracking_s, serving_s


def main() -> None:
    """Runs the measurement and prints the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    args = parser.parse_args()
    colds, first_predictions, noops, floors, trainings = [], [], [], [], []
    for attempt in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-local-") as folder:
            workdir = Path(folder)
            project = make_project(workdir / "project")
            with EngineHarness(
                project, f"bench{attempt}", config={"mlops:cloud": "local"}
            ) as harness:
                harness.init()
                configure(harness, stack_spec())
                started = time.perf_counter()
                cold = _timed_up(harness)
                outputs = harness.outputs()
                endpoint = outputs["endpoints"]["diagnosis"]
                post(endpoint["url"], serving_example(outputs["tracking_url"], "diagnosis", "1"))
                first_predictions.append(time.perf_counter() - started)
                colds.append(cold)
                noops.append(_timed_up(harness))
                trainings.append(_training_seconds(harness))
                tracking_s, serving_s = _serve_floor(workdir, outputs["tracking_url"])
                floors.append(tracking_s + serving_s)
                print(
                    f"run {attempt + 1}: cold up {cold:.1f}s, "
                    f"first prediction {first_predictions[-1]:.1f}s, "
                    f"no-change up {noops[-1]:.1f}s, pipeline {trainings[-1]:.1f}s, "
                    f"floor {floors[-1]:.1f}s (tracking {tracking_s:.1f}s "
                    f"+ model server {serving_s:.1f}s)",
                    flush=True,
                )
    median = statistics.median
    print(
        f"cold up to first prediction (median of {args.repeat}): {median(first_predictions):.1f}s"
    )
    print(f"  of which the pipeline run (4 steps): {median(trainings):.1f}s")
    print(f"no-change up: {median(noops):.1f}s")
    print(f"floor (mlflow server + mlflow models serve by hand): {median(floors):.1f}s")
    print(f"cold-up / floor: {median(first_predictions) / median(floors):.2f}")
    without_training = median(first_predictions) - median(trainings)
    print(f"cold-up without training / floor: {without_training / median(floors):.2f}")
    print(f"local_up_ratio: {median(first_predictions) / median(floors):.2f}")


def _training_seconds(harness: EngineHarness) -> float:
    """Seconds between the first and last step line of the pipeline run in the progress log."""
    log = harness.project_dir / ".mlops" / harness.stack / "progress.log"
    stamps = [
        line.split()[0]
        for line in log.read_text().splitlines()
        if "[pipeline diagnosis]" in line and "step " in line
    ]
    if len(stamps) < 2:
        return 0.0
    first, last = (time.strptime(stamp, "%H:%M:%S") for stamp in (stamps[0], stamps[-1]))
    return float(
        (last.tm_hour * 3600 + last.tm_min * 60 + last.tm_sec)
        - (first.tm_hour * 3600 + first.tm_min * 60 + first.tm_sec)
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
