"""A serving container run here: started, probed, and asked for one prediction.

The image rehearse knows is MLflow's model server (``mlflow models build-docker``), whose
entry starts ``uvicorn mlflow.pyfunc.scoring_server.app:app`` on the model folder (behind
nginx on SageMaker). Rehearse starts that server in a virtualenv built from the model's own
``requirements.txt`` (what the container installs at start), on a free loopback port, and
checks the cloud's contract: the readiness route answers 200, then the invocation route
answers the model's serving example.
"""

from __future__ import annotations

import json
import typing
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_infra.rehearse.context import RehearsalContext
from mlops_infra.rehearse.environments import read_requirements
from mlops_infra.rehearse.errors import RehearsalError
from mlops_infra.rehearse.network import LOOPBACK, free_port, wait_http

__all__ = ["ServingContract", "serve_and_predict", "serving_python"]

_MODEL_PATH_VARIABLE = "__pyfunc_model_path__"
"""Where MLflow's scoring server reads the model folder (``scoring_server.get_cmd``)."""


@dataclass(frozen=True)
class ServingContract:
    """A cloud's serving contract.

    Attributes:
        name: The contract (for errors), with its documentation page.
        ready_path: Route the platform probes until it answers 200.
        invoke_path: Route requests are sent to.
        container_port: The port the platform sends traffic to (remapped to a free one).
        port_variable: Variable naming the port the server must listen on, if any.
    """

    name: str
    ready_path: str
    invoke_path: str
    container_port: int
    port_variable: str | None = None


def serving_python(ctx: RehearsalContext, model_dir: Path, *, endpoint: str) -> Path:
    """The serving image's interpreter: MLflow's server and the model's requirements."""
    path = model_dir / "requirements.txt"
    if not path.is_file():
        files = sorted(p.name for p in model_dir.iterdir())
        msg = f"the model folder has no requirements.txt (it holds {files})"
        raise RehearsalError(f"serve {endpoint}", "MLflow model", msg)
    requirements = read_requirements(path)
    dropped = ctx.faults.serving_drop_requirement
    if dropped:
        requirements = [r for r in requirements if not r.lower().startswith(dropped.lower())]
    return ctx.venvs.python(requirements, image=f"serving image of {endpoint}")


def serve_and_predict(
    ctx: RehearsalContext,
    *,
    endpoint: str,
    contract: ServingContract,
    model_dir: Path,
    environment: Mapping[str, str],
) -> Any:
    """Starts the MLflow serving container on ``model_dir``; returns one prediction.

    Raises:
        RehearsalError: the server did not become ready or did not answer the example.
    """
    step = f"serve {endpoint}"
    python = serving_python(ctx, model_dir, endpoint=endpoint)
    example = model_dir / "serving_input_example.json"
    if not example.is_file():
        raise RehearsalError(step, "MLflow model", "no serving_input_example.json in the model")
    port = free_port()
    env = {**ctx.base_environment, **environment, _MODEL_PATH_VARIABLE: model_dir.as_uri()}
    if contract.port_variable:
        env[contract.port_variable] = str(port)
    argv = [
        str(python), "-m", "uvicorn", "--host", LOOPBACK, "--port", str(port),
        "--workers", "1", "mlflow.pyfunc.scoring_server.app:app",
    ]  # fmt: skip
    log = ctx.workdir / "logs" / f"serve-{endpoint}.log"
    child = ctx.processes.start(argv, env=env, cwd=model_dir, log=log)
    base = f"http://{LOOPBACK}:{port}"
    try:
        status = wait_http(base + contract.ready_path, timeout_s=180, process=child)
        if status != 200:
            tail = "\n".join(log.read_text("utf-8", "replace").strip().splitlines()[-12:])
            what = f"answered {status}" if status else "never answered"
            remapped = f"port {contract.container_port} remapped to {port}"
            msg = f"GET {contract.ready_path} {what} ({remapped}):\n{tail}"
            raise RehearsalError(step, contract.name, msg)
        return _post(step, contract, base + contract.invoke_path, example.read_bytes(), log)
    finally:
        ctx.processes.stop(child)


def _post(step: str, contract: ServingContract, url: str, body: bytes, log: Path) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            answer: Any = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:800]
        raise RehearsalError(
            step, contract.name, f"POST answered {error.code}: {detail}"
        ) from error
    except (urllib.error.URLError, OSError) as error:
        tail = "\n".join(log.read_text("utf-8", "replace").strip().splitlines()[-12:])
        raise RehearsalError(step, contract.name, f"POST failed: {error}\n{tail}") from error
    if isinstance(answer, dict):
        fields = typing.cast(dict[str, Any], answer)
        return fields.get("predictions", fields)
    return answer
