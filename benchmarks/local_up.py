"""Local deployment latency: `pulumi up` of the local stack against the hand-run floor.

Measured in one run, on this machine:

* cold ``up`` to first prediction: a new stack (new tracking server, pipeline run,
  model server) until the endpoint answers;
* no-change ``up``: the same stack again (nothing to do);
* the floor: the same work done by hand as fast as a person could — start
  ``mlflow server`` and wait for ``/health``; run the example's four step scripts
  directly against it (``python -m mlops_infra.runtime.step``, in order); start
  ``mlflow models serve`` on the version they registered, wait for ``/ping``; first
  prediction.

The ratio cold-up / floor shows what the infrastructure-as-code path costs on top of the
same work done by hand (issue 17's definition).

Run: ``.venv/bin/python benchmarks/local_up.py [--repeat N]`` (needs ``scripts/install-pulumi``).
Ends with the headline line ``local_up_ratio: <cold up / floor>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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


def _start_tracking(workdir: Path, env: dict[str, str]) -> str:
    """``mlflow server`` by hand (SQLite, proxied artifacts); returns its URL once healthy."""
    port = find_free_port("127.0.0.1")
    record = start_process(
        [
            sys.executable,
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
    url = f"http://127.0.0.1:{port}"
    wait_for_http(
        f"{url}/health", timeout_s=120, record=record, log_file=workdir / "floor-tracking.log"
    )
    return url


def _run_steps_by_hand(
    workdir: Path, project: Path, tracking_url: str, env: dict[str, str]
) -> None:
    """The example's four steps, each run directly (``python -m mlops_infra.runtime.step``)
    against the hand-started server, in order, each given every earlier step's outputs."""
    # A person's script imports MLflow too: its import is part of the floor.
    import mlflow

    from mlops_infra.runtime import StepContext

    client = mlflow.MlflowClient(tracking_uri=tracking_url)
    run_id = client.create_run(client.create_experiment("diagnosis-by-hand")).info.run_id
    pipeline = stack_spec()["pipelines"][0]
    outputs: dict[str, str] = {}
    for step in pipeline["steps"]:
        output = workdir / "floor-steps" / step["name"]
        context = StepContext(
            pipeline="diagnosis", step=step["name"], version="by-hand", run_id=run_id,
            model_name="diagnosis",
            params={**pipeline["parameters"], **step.get("parameters", {})},
            data={"breast_cancer": str(project / pipeline["data"]["breast_cancer"]["uri"])},
            inputs=dict(outputs), output_dir=str(output),
        )  # fmt: skip
        output.mkdir(parents=True, exist_ok=True)
        context.save(output / "context.json")
        subprocess.run(
            [sys.executable, "-m", "mlops_infra.runtime.step", str(output / "context.json"),
             step["component"]],
            env={**env, "MLFLOW_TRACKING_URI": tracking_url,
                 "PYTHONPATH": os.pathsep.join([str(project / "components"), str(REPO)])},
            cwd=workdir, check=True, capture_output=True,
        )  # fmt: skip
        outputs[step["name"]] = str(output)


def _serve_model(workdir: Path, tracking_url: str, env: dict[str, str]) -> str:
    """``mlflow models serve`` on version 1 by hand; returns its URL once it answers /ping."""
    port = find_free_port("127.0.0.1")
    record = start_process(
        [
            sys.executable,
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
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/ping", timeout_s=180, record=record, log_file=workdir / "floor-model.log")
    return url


def _hand_floor(workdir: Path, project: Path) -> tuple[float, float, float, float]:
    """The same work as the cold ``up``, done by hand as fast as a person could: returns the
    seconds to first prediction, and of the tracking start, the four steps and serving."""
    env = child_environment(sys.executable, {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    started = time.perf_counter()
    try:
        tracking_url = _start_tracking(workdir, env)
        tracked = time.perf_counter()
        _run_steps_by_hand(workdir, project, tracking_url, env)
        trained = time.perf_counter()
        model_url = _serve_model(workdir, tracking_url, env)
        served = time.perf_counter()
        post(f"{model_url}/invocations", serving_example(tracking_url, "diagnosis", "1"))
        total = time.perf_counter() - started
    finally:
        stop_process(workdir / "floor-model.pid")
        stop_process(workdir / "floor-tracking.pid")
    return total, tracked - started, trained - tracked, served - trained


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
                floor, tracking_s, steps_s, serving_s = _hand_floor(workdir, project)
                floors.append(floor)
                print(
                    f"run {attempt + 1}: cold up {cold:.1f}s, "
                    f"first prediction {first_predictions[-1]:.1f}s, "
                    f"no-change up {noops[-1]:.1f}s, pipeline {trainings[-1]:.1f}s, "
                    f"floor {floor:.1f}s (tracking {tracking_s:.1f}s, steps {steps_s:.1f}s, "
                    f"model server {serving_s:.1f}s, then the prediction)",
                    flush=True,
                )
    median = statistics.median
    print(
        f"cold up to first prediction (median of {args.repeat}): {median(first_predictions):.1f}s"
    )
    print(f"  of which the pipeline run (4 steps): {median(trainings):.1f}s")
    print(f"no-change up: {median(noops):.1f}s")
    print(
        "floor (mlflow server, the four steps, mlflow models serve, by hand): "
        f"{median(floors):.1f}s"
    )
    print(f"cold-up / floor: {median(first_predictions) / median(floors):.2f}")
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
