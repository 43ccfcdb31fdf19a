"""Helpers for driving the local stack with the real engine: project, processes, MLflow."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import urllib.request
from pathlib import Path
from typing import Any

from mlops_infra.testing.engine import EngineHarness

REPO = Path(__file__).resolve().parents[2]

STEPS = [
    {"name": "featurize", "component": "diagnosis.featurize", "parameters": {"test_size": 0.25}},
    {
        "name": "train",
        "component": "diagnosis.train",
        "depends_on": ["featurize"],
        "cluster": "cpu",
    },
    {"name": "evaluate", "component": "diagnosis.evaluate", "depends_on": ["train"]},
    {"name": "register", "component": "diagnosis.register", "depends_on": ["evaluate"]},
]


def stack_spec(
    *, c: float = 1.0, threshold: float = 0.9, version: str | None = None
) -> dict[str, Any]:
    """The local stack used by the tests, with a local copy of the dataset (so it can change)."""
    pipeline: dict[str, Any] = {
        "name": "diagnosis",
        "data": {"breast_cancer": {"uri": "data/breast_cancer.csv"}},
        "parameters": {"seed": 7, "c": c},
        "steps": copy.deepcopy(STEPS),
    }
    if version:
        pipeline["version"] = version
    return {
        "tracking": {"auth": False},
        "clusters": [{"name": "cpu", "max_nodes": 1}],
        "pipelines": [pipeline],
        "endpoints": [
            {
                "name": "diagnosis",
                "model": "diagnosis",
                "gate": {
                    "conditions": [{"metric": "accuracy", "op": ">=", "threshold": threshold}]
                },
            }
        ],
    }


def make_project(root: Path) -> Path:
    """A project folder: Pulumi.yaml, the example components and a copy of the dataset."""
    root.mkdir(parents=True, exist_ok=True)
    project = (REPO / "Pulumi.yaml").read_text(encoding="utf-8")
    # The copy lives elsewhere: point it at this checkout's virtualenv.
    project = project.replace("virtualenv: .venv", f"virtualenv: {REPO / '.venv'}")
    (root / "Pulumi.yaml").write_text(project, encoding="utf-8")
    shutil.copy(REPO / "__main__.py", root / "__main__.py")
    shutil.copytree(
        REPO / "components", root / "components", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "data").mkdir(exist_ok=True)
    import sklearn.datasets

    dataset = Path(sklearn.datasets.__file__).parent / "data" / "breast_cancer.csv"
    shutil.copy(dataset, root / "data" / "breast_cancer.csv")
    return root


def configure(harness: EngineHarness, spec: dict[str, Any]) -> None:
    """Sets the stack's config (cloud, environment, spec)."""
    harness.set_config("mlops:stack", spec)


def state_dir(harness: EngineHarness) -> Path:
    """The local stack's data folder inside the harness's copy of the project."""
    return harness.project_dir / ".mlops" / harness.stack


def our_processes(harness: EngineHarness) -> list[tuple[int, str]]:
    """Processes started for the harness's workspace: its path is in their command line or
    their working directory is inside it (ours, and only ours)."""
    marker = str(harness.workdir)
    found: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if cmdline and (marker in cmdline or cwd.startswith(marker)):
            found.append((int(entry.name), cmdline.strip()))
    return found


def kill_service(pid_file: Path) -> int:
    """SIGKILLs the process group recorded in a managed service's pid file; returns the pid."""
    pid = int(json.loads(pid_file.read_text())["pid"])
    os.killpg(pid, signal.SIGKILL)
    return pid


def post(url: str, payload: str) -> Any:
    """POSTs a JSON payload and returns the decoded answer."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=payload.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def mlflow_client(tracking_url: str) -> Any:
    """An MLflow client for the stack's tracking server."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)


def runs_of(client: Any, pipeline: str = "diagnosis") -> list[Any]:
    """Every run of the pipeline's experiment, oldest first."""
    experiment = client.get_experiment_by_name(pipeline)
    if experiment is None:
        return []
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    return list(runs)


def serving_example(tracking_url: str, model: str, version: str) -> str:
    """The serving input example MLflow stored with the model."""
    os.environ["MLFLOW_TRACKING_URI"] = tracking_url
    import mlflow.artifacts

    path = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{model}/{version}/serving_input_example.json"
    )
    return Path(path).read_text(encoding="utf-8")
