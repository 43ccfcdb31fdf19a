"""``python -m mlops_infra.backends.aws.container_entry``: run one component in a SageMaker job.

The container side of :mod:`mlops_infra.backends.aws._contract`. SageMaker delivers the
version's code (channel ``code``), data channels and upstream outputs under
``/opt/ml/input/data``, and the step's settings as hyperparameters; this entry point finds
or starts the MLflow run of the pipeline execution, builds the
:class:`~mlops_infra.runtime.StepContext`, runs the component, and leaves its outputs in
``/opt/ml/model`` (uploaded by SageMaker for downstream steps). Imports no cloud SDK at
module level: ``boto3`` is needed only to read a basic-auth password from Secrets Manager.

``Any`` marks untyped JSON, ``boto3`` (not a dependency of this package, so untyped here)
and MLflow's partly typed client.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_infra.backends.aws._contract import (
    CODE_CHANNEL,
    HP_COMPONENT,
    HP_DATA,
    HP_EXECUTION,
    HP_FINAL,
    HP_INPUTS,
    HP_MODEL,
    HP_PARAMS,
    HP_PIPELINE,
    HP_STEP,
    HP_TAGS,
    HP_VERSION,
    HYPERPARAMETERS_ENV,
    PACKAGE_ENV,
    PASSWORD_SECRET_ENV,
    data_channel,
    step_channel,
)

__all__ = ["build_context", "main", "stage_batch", "unpack_inputs"]

_ROOT = Path("/opt/ml")
_EXECUTION_TAG = "mlops.execution"


def _read_hyperparameters(root: Path) -> dict[str, str]:
    path = root / "input" / "config" / "hyperparameters.json"
    raw: Any = (
        json.loads(  # Any: untyped JSON
            path.read_text(encoding="utf-8")
        )
        if path.exists()
        else {}
    )
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]


def unpack_inputs(root: Path, steps: list[str]) -> dict[str, str]:
    """Returns upstream step → folder, extracting the ``model.tar.gz`` SageMaker delivers."""
    inputs: dict[str, str] = {}
    for step in steps:
        channel = root / "input" / "data" / step_channel(step)
        target = root / "input" / "unpacked" / step
        target.mkdir(parents=True, exist_ok=True)
        for archive in sorted(channel.glob("*.tar.gz")):
            with tarfile.open(archive) as bundle:
                bundle.extractall(target, filter="data")
        inputs[step] = str(target)
    return inputs


def build_context(hp: Mapping[str, str], root: Path, run_id: str) -> dict[str, Any]:
    """The :class:`StepContext` fields of this step (data channels resolved to folders)."""
    data: dict[str, str] = {}
    for name, value in json.loads(hp.get(HP_DATA, "{}")).items():
        where = str(value)
        if where.startswith("channel:"):
            data[name] = str(root / "input" / "data" / where.removeprefix("channel:"))
        else:
            data[name] = where
    inputs = unpack_inputs(root, list(json.loads(hp.get(HP_INPUTS, "[]"))))
    return {
        "pipeline": hp[HP_PIPELINE],
        "step": hp[HP_STEP],
        "version": hp[HP_VERSION],
        "run_id": run_id,
        "model_name": hp[HP_MODEL],
        "params": json.loads(hp.get(HP_PARAMS, "{}")),
        "data": data,
        "inputs": inputs,
        "output_dir": str(root / "model"),
        "tags": json.loads(hp.get(HP_TAGS, "{}")),
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
    }


def _boto3_client(service: str) -> Any:
    # Any: boto3 is in the job image, not a dependency of this package (no type information).
    boto3: Any = importlib.import_module("boto3")
    return boto3.client(service)


def _download(client: Any, uri: str, target: Path) -> None:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = str(item["Key"])[len(prefix) :].lstrip("/")
            if relative and not relative.endswith("/"):
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, item["Key"], str(destination))


def stage_batch(root: Path) -> None:
    """Batch jobs: lays the package out the way SageMaker would (code, data, settings)."""
    package = os.environ[PACKAGE_ENV].rstrip("/") + "/"
    hyperparameters: dict[str, str] = json.loads(os.environ.get(HYPERPARAMETERS_ENV, "{}"))
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters), encoding="utf-8")
    client = _boto3_client("s3")
    _download(client, package + "code/", root / "input" / "data" / CODE_CHANNEL)
    for name, where in json.loads(hyperparameters.get(HP_DATA, "{}")).items():
        if str(where).startswith("channel:"):
            _download(
                client, f"{package}data/{name}/", root / "input" / "data" / data_channel(name)
            )


def _tracking_password() -> None:
    secret = os.environ.get(PASSWORD_SECRET_ENV)
    if not secret or os.environ.get("MLFLOW_TRACKING_PASSWORD"):
        return
    client = _boto3_client("secretsmanager")
    os.environ["MLFLOW_TRACKING_PASSWORD"] = str(
        client.get_secret_value(SecretId=secret)["SecretString"]
    )


def _run_id(hp: Mapping[str, str]) -> str:
    from mlflow import MlflowClient  # noqa: PLC0415 - the workload imports MLflow

    client: Any = MlflowClient()  # Any: MLflow's client API is only partly typed
    experiment = client.get_experiment_by_name(hp[HP_PIPELINE])
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(hp[HP_PIPELINE])
    )
    execution = hp[HP_EXECUTION]
    found = client.search_runs(
        [experiment_id], f"tags.`{_EXECUTION_TAG}` = '{execution}'", max_results=1
    )
    if found:
        return str(found[0].info.run_id)
    tags = {**json.loads(hp.get(HP_TAGS, "{}")), _EXECUTION_TAG: execution}
    run = client.create_run(experiment_id, tags=tags, run_name=f"{hp[HP_VERSION]}-{execution}")
    return str(run.info.run_id)


def main(root: Path | None = None) -> int:
    """Runs the step's component; returns the process exit code."""
    from mlops_infra.runtime.context import StepContext  # noqa: PLC0415
    from mlops_infra.runtime.step import main as run_step  # noqa: PLC0415

    root = root or Path(os.environ.get("MLOPS_ROOT", str(_ROOT)))
    if os.environ.get(PACKAGE_ENV):
        stage_batch(root)
    hp = _read_hyperparameters(root)
    _tracking_password()
    sys.path.insert(0, str(root / "input" / "data" / CODE_CHANNEL))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [sys.path[0], os.environ.get("PYTHONPATH")])
    )
    run_id = _run_id(hp)
    context = StepContext(**build_context(hp, root, run_id))
    context_file = root / "input" / "step-context.json"
    context.save(context_file)
    try:
        code = run_step([str(context_file), hp[HP_COMPONENT]])
    except Exception:
        _finish(run_id, succeeded=False)
        raise
    if code != 0 or hp.get(HP_FINAL) == "true":
        _finish(run_id, succeeded=code == 0)
    return code


def _finish(run_id: str, *, succeeded: bool) -> None:
    """Ends the pipeline's run: after its last step, or when a step fails."""
    from mlflow import MlflowClient  # noqa: PLC0415

    client: Any = MlflowClient()
    client.set_terminated(run_id, status="FINISHED" if succeeded else "FAILED")


if __name__ == "__main__":
    sys.exit(main())
