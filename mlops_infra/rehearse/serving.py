"""A serving container run here: started, probed, and asked for one prediction.

The image rehearse knows is MLflow's model server (``mlflow models build-docker`` or an
image with ``mlflow`` and the model's requirements). Rehearse runs the container's command
in a virtualenv built from the model's own ``requirements.txt`` (what the image holds) plus
the cloud's extras, on a free loopback port, and checks the cloud's contract: the readiness
route answers 200, then the invocation route answers the model's serving example.
"""

from __future__ import annotations

import json
import re
import typing
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_infra.rehearse.context import RehearsalContext
from mlops_infra.rehearse.errors import RehearsalError
from mlops_infra.rehearse.network import LOOPBACK, wait_http

__all__ = ["MODEL_PATH_VARIABLE", "ServingContract", "probe_and_predict", "serving_python"]

MODEL_PATH_VARIABLE = "__pyfunc_model_path__"
"""Where MLflow's scoring server reads the model folder (``scoring_server.get_cmd``)."""


@dataclass(frozen=True)
class ServingContract:
    """A cloud's serving contract.

    Attributes:
        name: The contract (for errors), with its documentation page.
        ready_path: Route the platform probes until it answers 200.
        invoke_path: Route requests are sent to.
        container_port: The port the platform sends traffic to (remapped to a free one).
    """

    name: str
    ready_path: str
    invoke_path: str
    container_port: int


def serving_python(ctx: RehearsalContext, requirements: Sequence[str], *, endpoint: str) -> Path:
    """The serving image's interpreter, from the model's requirements (and the cloud's)."""
    dropped = ctx.faults.serving_drop_requirement
    return ctx.venvs.python(
        list(requirements),
        image=f"serving image of {endpoint}",
        without=[dropped] if dropped else [],
    )


def probe_and_predict(
    ctx: RehearsalContext,
    *,
    endpoint: str,
    contract: ServingContract,
    argv: Sequence[str],
    environment: Mapping[str, str],
    cwd: Path,
    port: int,
    example: bytes,
) -> Any:
    """Starts the serving command, waits for readiness, posts ``example``; returns the answer.

    Raises:
        RehearsalError: the server did not become ready or did not answer the example.
    """
    step = f"serve {endpoint}"
    log = ctx.workdir / "logs" / f"serve-{endpoint}.log"
    child = ctx.processes.start(argv, env={**ctx.base_environment, **environment}, cwd=cwd, log=log)
    base = f"http://{LOOPBACK}:{port}"
    try:
        status = wait_http(base + contract.ready_path, timeout_s=300, process=child)
        if status != 200:
            what = f"answered {status}" if status else "never answered"
            remapped = f"port {contract.container_port} remapped to {port}"
            msg = f"GET {contract.ready_path} {what} ({remapped}):\n{_tail(log)}"
            raise RehearsalError(step, contract.name, msg)
        return _post(step, contract, base + contract.invoke_path, example, log)
    finally:
        ctx.processes.stop(child)


_RAISED = re.compile(r"\b[A-Za-z_][\w.]*(?:Error|Exception): ")


def _tail(log: Path) -> str:
    """The log's last lines, after the last exception it shows.

    Servers log a failed model load at start and go on printing their routes.
    """
    lines = log.read_text("utf-8", "replace").strip().splitlines()
    tail = lines[-12:]
    logged = _last_raised(log, lines[:-12])
    return "\n".join([*([logged] if logged else []), *tail])


def _last_raised(log: Path, lines: Sequence[str] | None = None) -> str | None:
    """The last exception lines a server logged (``ModuleNotFoundError: …``), if any.

    Up to three distinct ones: a server wraps the cause (``UserScriptException``).
    """
    if lines is None:
        lines = log.read_text("utf-8", "replace").splitlines()
    raised = list(dict.fromkeys(line.strip() for line in lines if _RAISED.search(line)))
    return "\n".join(raised[-3:]) if raised else None


def _post(step: str, contract: ServingContract, url: str, body: bytes, log: Path) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            answer: Any = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:800]
        logged = _last_raised(log)
        raise RehearsalError(
            step,
            contract.name,
            f"POST answered {error.code}: {detail}" + (f"\n{logged}" if logged else ""),
        ) from error
    except (urllib.error.URLError, OSError) as error:
        raise RehearsalError(step, contract.name, f"POST failed: {error}\n{_tail(log)}") from error
    if isinstance(answer, dict):
        fields = typing.cast(dict[str, Any], answer)
        return fields.get("predictions", fields)
    return answer
