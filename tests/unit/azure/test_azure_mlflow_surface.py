"""MLflow 3 workloads against what Azure ML serves of MLflow's API (issue 15.9).

A real ``mlflow server`` runs behind the rehearsal's proxy with
:func:`azure_ml_unsupported`, which answers the logged-models and alias routes with 404 as
Azure ML does (the module cites the tracker and the docs). The flavor's ``log_model`` fails
there; :meth:`StepContext.log_model` logs, registers and loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Generator
from pathlib import Path

import pytest

from mlops_infra.backends.azure.mlflow_surface import azure_ml_unsupported
from mlops_infra.rehearse.emulators import tracking_server
from mlops_infra.rehearse.processes import Processes
from mlops_infra.rehearse.recorder import CallRecorder, recording_proxy


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/api/2.0/mlflow/logged-models", 404),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-1", 404),
        ("POST", "/api/2.0/mlflow/logged-models/search", 404),
        ("GET", "/ajax-api/2.0/mlflow/logged-models/m-1?x=1", 404),
        ("POST", "/api/2.0/mlflow/registered-models/alias", 404),
        ("GET", "/api/2.0/mlflow/registered-models/alias?name=m&alias=champion", 404),
        ("POST", "/api/2.0/mlflow/runs/create", None),
        ("POST", "/api/2.0/mlflow/model-versions/create", None),
        ("POST", "/api/2.0/mlflow/logged-models-extra", None),
        ("GET", "/api/2.0/mlflow/registered-models/get?name=alias", None),
    ],
)
def test_azure_ml_unsupported_routes(method: str, path: str, status: int | None) -> None:
    assert azure_ml_unsupported(method, path) == status


@pytest.fixture(scope="module")
def azure_ml(tmp_path_factory: pytest.TempPathFactory) -> Generator[CallRecorder]:
    workdir = tmp_path_factory.mktemp("azure-ml-mlflow")
    processes = Processes()
    try:
        with (
            tracking_server(
                processes, workdir=workdir / "server",
                artifact_root=str(workdir / "artifacts"), environment=dict(os.environ),
            ) as server,
            recording_proxy(server.url, unsupported=azure_ml_unsupported) as surface,
        ):  # fmt: skip
            yield surface
    finally:
        processes.close()


_MODEL = """
import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient

from mlops_infra.runtime import StepContext


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


run = MlflowClient().create_run(MlflowClient().create_experiment("{experiment}"))
ctx = StepContext(
    pipeline="p", step="train", version="v1", run_id=run.info.run_id,
    model_name="{model}", output_dir="{output}", tags={{"mlops.pipeline": "p"}},
)
"""


def _step(
    recorder: CallRecorder, caller: str, body: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Runs ``body`` as a step would: a fresh interpreter whose tracking URI is Azure ML's."""
    script = textwrap.dedent(_MODEL).format(
        experiment=caller, model=f"model-{caller}", output=tmp_path
    ) + textwrap.dedent(body)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": recorder.url(caller),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def test_the_flavors_log_model_fails_on_azure_ml(azure_ml: CallRecorder, tmp_path: Path) -> None:
    body = """
    with mlflow.start_run(run_id=ctx.run_id):
        mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    """
    result = _step(azure_ml, "flavor", body, tmp_path)

    assert result.returncode != 0
    assert "/api/2.0/mlflow/logged-models failed with error code 404" in result.stderr
    assert "CreateLoggedModel" in azure_ml.calls("flavor")


def test_step_context_logs_registers_and_loads_on_azure_ml(
    azure_ml: CallRecorder, tmp_path: Path
) -> None:
    body = """
    uri = ctx.log_model(mlflow.pyfunc.save_model, python_model=Doubler())
    version = ctx.register_model()
    loaded = mlflow.pyfunc.load_model(f"models:/{ctx.model_name}/{version}")
    tags = MlflowClient().get_model_version(ctx.model_name, version).tags
    print(uri == f"runs:/{ctx.run_id}/model", version, loaded.predict([1, 2]), tags)
    """
    result = _step(azure_ml, "context", body, tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "True 1 [2, 4] {'mlops.pipeline': 'p'}"
    assert not {c for c in azure_ml.calls("context") if "LoggedModel" in c or "Alias" in c}
    assert (tmp_path / "result.json").read_text(encoding="utf-8").count('"1"') == 1
