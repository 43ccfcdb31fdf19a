"""``python -m mlops_infra.backends.gcp.container_entry``: run one step in a GCP container.

Runs one pipeline step (or a training job, a one-step pipeline) inside a Vertex AI
CustomJob or a Cloud Run job, under the same component contract as the local runner
(:class:`~mlops_infra.runtime.context.StepContext`). The runtime image holds
``mlops-infra[gcp]`` and MLflow; the step's code and data are read from the immutable
package in the artifact bucket through Cloud Storage FUSE (``/gcs/<bucket>/...``).

Environment:

* ``MLOPS_STEP``: the step as JSON (see :func:`step_context`).
* ``MLOPS_EXECUTION_ID``: one pipeline run (the Workflows execution id; a job's version).
* ``MLFLOW_TRACKING_URI`` / ``MLFLOW_TRACKING_USERNAME``: the tracking server.
* ``MLFLOW_TRACKING_PASSWORD``, or ``MLOPS_TRACKING_PASSWORD_SECRET`` (a Secret Manager
  version read at start with the workload's own identity).
* ``MLOPS_CLOUD_RUN_AUTH=1``: the tracking server is a Cloud Run service with IAM
  invoker checks; an ID token for it is sent in ``X-Serverless-Authorization`` (the
  ``Authorization`` header stays free for MLflow's basic auth).

Steps of one execution share one MLflow run: the first step creates it and records its
id beside the step outputs (``<runs_dir>/<execution>/run_id``); steps run in sequence.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    # Imported when a step runs: the backends import this module's constants at plan time.
    from mlops_infra.runtime.context import StepContext

__all__ = ["EXECUTION_TAG", "RUNTIME_REQUIREMENTS", "main", "step_context"]

RUNTIME_REQUIREMENTS = ("google-auth>=2.30,<3", "requests>=2.32")
"""What the runtime image adds on GCP: Secret Manager calls and Cloud Run ID tokens."""

EXECUTION_TAG = "mlops.workflow_execution"
"""Run and model version tag: the Workflows execution that produced them."""

_SECRET_API = "https://secretmanager.googleapis.com/v1"  # noqa: S105 - an API root
_TOKEN_LIFETIME_S = 1800


def _strings(value: Any) -> dict[str, str]:
    # ``value`` is decoded JSON (Any): a mapping, or nothing.
    mapping = cast(Mapping[Any, Any], value or {})
    return {str(k): str(v) for k, v in mapping.items()}


def step_context(step: Mapping[str, Any], execution: str, run_id: str) -> StepContext:
    """Builds the component's context from ``MLOPS_STEP`` for one execution.

    ``step`` holds ``pipeline``, ``step``, ``version``, ``model_name``, ``params``,
    ``data`` (name → path or URI), ``inputs_from`` (every upstream step, direct or not),
    ``runs_dir``, ``tags`` and ``gpus``. Upstream outputs are
    ``<runs_dir>/<execution>/<upstream step>``.
    """
    from mlops_infra.runtime.context import StepContext  # noqa: PLC0415 - see the imports

    run_dir = Path(str(step["runs_dir"]), execution)
    return StepContext(
        pipeline=str(step["pipeline"]),
        step=str(step["step"]),
        version=str(step["version"]),
        run_id=run_id,
        model_name=str(step["model_name"]),
        params=dict(cast(Mapping[str, Any], step.get("params") or {})),
        data=_strings(step.get("data")),
        inputs={
            str(dep): str(run_dir / str(dep))
            for dep in cast(list[Any], step.get("inputs_from") or [])
        },
        output_dir=str(run_dir / str(step["step"])),
        # The model version registered by this execution can be found by it (see _run).
        tags={**_strings(step.get("tags")), EXECUTION_TAG: execution},
        gpus=",".join(str(i) for i in range(int(step.get("gpus") or 0))),
    )


def _read_secret(version_name: str) -> str:
    import base64  # noqa: PLC0415 - container side only

    import google.auth  # noqa: PLC0415
    from google.auth.transport.requests import AuthorizedSession  # noqa: PLC0415

    # google-auth is only partly typed: its session is handled as Any at this boundary.
    default = cast(Any, google.auth.default)  # pyright: ignore[reportUnknownMemberType]
    credentials, _ = default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    session: Any = AuthorizedSession(credentials)
    response: Any = session.get(f"{_SECRET_API}/{version_name}:access", timeout=60)
    response.raise_for_status()
    payload: dict[str, Any] = response.json()
    return base64.b64decode(payload["payload"]["data"]).decode("utf-8")


def _cloud_run_auth(audience: str) -> None:
    """Sends an ID token for ``audience`` with every MLflow request."""
    from google.auth.transport.requests import Request  # noqa: PLC0415
    from google.oauth2 import id_token  # noqa: PLC0415
    from mlflow.tracking.request_header.abstract_request_header_provider import (  # noqa: PLC0415
        RequestHeaderProvider,
    )

    # MLflow's registry is private; the public alternative is an installed entry-point
    # plugin, which the runtime image would have to carry.
    from mlflow.tracking.request_header.registry import (  # noqa: PLC0415
        _request_header_provider_registry,  # pyright: ignore[reportPrivateUsage]
    )

    cache: dict[str, Any] = {}

    class CloudRunIdToken(RequestHeaderProvider):
        # MLflow's base class declares these without return types (read as None).
        def in_context(self) -> bool:  # pyright: ignore[reportIncompatibleMethodOverride]
            return True

        def request_headers(self) -> dict[str, str]:  # pyright: ignore[reportIncompatibleMethodOverride]
            if cache.get("expires", 0.0) < time.time():
                cache["token"] = id_token.fetch_id_token(Request(), audience)  # pyright: ignore[reportUnknownMemberType]
                cache["expires"] = time.time() + _TOKEN_LIFETIME_S
            return {"X-Serverless-Authorization": f"Bearer {cache['token']}"}

    _request_header_provider_registry.register(CloudRunIdToken)  # pyright: ignore[reportUnknownMemberType]


def _pipeline_run(step: Mapping[str, Any], run_dir: Path) -> str:
    """Returns the execution's MLflow run, creating it (with lineage tags) in the first step."""
    marker = run_dir / "run_id"
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    from mlflow import MlflowClient  # noqa: PLC0415 - heavy; container side only

    client = MlflowClient()
    name = str(step["pipeline"])
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    tags = {**_strings(step.get("tags")), EXECUTION_TAG: run_dir.name}
    run = client.create_run(str(experiment_id), tags=tags, run_name=f"{name}-{step['version']}")
    run_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(run.info.run_id, encoding="utf-8")
    return str(run.info.run_id)


def _finish(run_id: str, succeeded: bool) -> None:
    from mlflow import MlflowClient  # noqa: PLC0415

    MlflowClient().set_terminated(run_id, status="FINISHED" if succeeded else "FAILED")


def main() -> int:
    """Runs the step described by the environment; returns the exit code."""
    step: dict[str, Any] = json.loads(os.environ["MLOPS_STEP"])
    execution = os.environ.get("MLOPS_EXECUTION_ID") or str(step["version"])
    secret = os.environ.get("MLOPS_TRACKING_PASSWORD_SECRET")
    if secret and not os.environ.get("MLFLOW_TRACKING_PASSWORD"):
        os.environ["MLFLOW_TRACKING_PASSWORD"] = _read_secret(secret)
    if os.environ.get("MLOPS_CLOUD_RUN_AUTH") == "1":
        _cloud_run_auth(os.environ["MLFLOW_TRACKING_URI"])
    run_dir = Path(str(step["runs_dir"]), execution)
    run_id = _pipeline_run(step, run_dir)
    ctx = step_context(step, execution, run_id)
    Path(ctx.output_dir).mkdir(parents=True, exist_ok=True)
    context_file = Path(ctx.output_dir, "context.json")
    ctx.save(context_file)
    sys.path.insert(0, str(step["code_dir"]))
    os.environ["MLFLOW_RUN_ID"] = run_id
    from mlops_infra.runtime.step import main as run_step  # noqa: PLC0415

    try:
        code = run_step([str(context_file), str(step["component"])])
    except Exception:
        _finish(run_id, succeeded=False)
        raise
    if code != 0 or step.get("final"):
        _finish(run_id, succeeded=code == 0)
    return code


if __name__ == "__main__":
    sys.exit(main())
