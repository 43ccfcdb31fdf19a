"""Local serving endpoint: ``mlflow models serve`` for the version the promotion gate allows.

At ``pulumi up`` the gate (built by the ``ServingEndpoint`` component, the same on every
cloud) is evaluated against the tracking server: a passing candidate is served (and the
alias moves to it once the server answers); a failing one leaves the endpoint on the
version it served, or pending. The model server restarts only when the served version
changes; ``read`` health-checks it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from mlops_infra.backends.local.dynamic import as_int, changed_keys, plain
from mlops_infra.backends.local.layout import StackLayout, log_progress
from mlops_infra.backends.local.options import LocalEndpointOptions
from mlops_infra.backends.local.process import (
    child_environment,
    find_free_port,
    http_ok,
    is_alive,
    port_is_free,
    read_record,
    start_process,
    stop_process,
    wait_for_http,
)
from mlops_infra.dynamic_provider import EngineBoundProvider
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.specs import ServingEndpointSpec

__all__ = ["LocalServingEndpoint", "ModelServer"]

_INPUTS = (
    "model",
    "version",
    "host",
    "port_option",
    "python",
    "tracking_url",
    "username",
    "password",
)


def _paths(props: dict[str, Any]) -> tuple[Path, Path]:
    data_dir = Path(props["data_dir"])
    return data_dir / "server.pid", data_dir / "server.log"


def _running(props: dict[str, Any]) -> bool:
    pid_file, _ = _paths(props)
    port = as_int(props.get("port"))
    ping = f"http://{props['host']}:{port}/ping"
    return bool(port) and is_alive(read_record(pid_file)) and http_ok(ping)


def _serve(props: dict[str, Any], port: int) -> int:
    pid_file, log_file = _paths(props)
    progress_log = Path(props["progress_log"])
    model, version = props["model"], props["version"]
    stop_process(pid_file)
    if not port_is_free(props["host"], port):
        msg = f"port {port} on {props['host']} is in use by another program; set options.port"
        raise BackendError(msg)
    env = child_environment(props["python"], {"MLFLOW_TRACKING_URI": props["tracking_url"]})
    if props.get("username") and props.get("password"):
        env["MLFLOW_TRACKING_USERNAME"] = props["username"]
        env["MLFLOW_TRACKING_PASSWORD"] = props["password"]
    command = [
        props["python"], "-m", "mlflow", "models", "serve",
        "-m", f"models:/{model}/{version}",
        "--env-manager", "local",
        "--host", props["host"],
        "--port", str(port),
    ]  # fmt: skip
    log_progress(progress_log, props["name"], f"serving {model} version {version} on port {port}")
    Path(props["data_dir"]).mkdir(parents=True, exist_ok=True)
    record = start_process(
        command, pid_file=pid_file, log_file=log_file, env=env, cwd=Path(props["data_dir"])
    )
    try:
        wait_for_http(
            f"http://{props['host']}:{port}/ping",
            timeout_s=float(props["start_timeout_s"]),
            record=record,
            log_file=log_file,
            progress=lambda message: log_progress(progress_log, props["name"], message),
        )
    except BackendError:
        stop_process(pid_file)
        raise
    log_progress(progress_log, props["name"], f"ready at http://{props['host']}:{port}/invocations")
    return record.pid


def _reconcile(props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
    pid_file, log_file = _paths(props)
    outs = plain(props)
    if not props.get("version"):
        stop_process(pid_file)
        return {**outs, "url": None, "port": None, "pid": None, "running": False}
    previous = olds or {}
    port = as_int(props["port_option"]) or as_int(previous.get("port"))
    port = port or find_free_port(props["host"])
    same = previous.get("version") == props["version"] and _running({**props, "port": port})
    pid = previous.get("pid") if same else _serve(props, port)
    return {
        **outs,
        "url": f"http://{props['host']}:{port}/invocations",
        "port": port,
        "pid": pid,
        "running": True,
        "log_file": str(log_file),
    }


class _ServerProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"model-server-{props['name']}", outs=_reconcile(props, None))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, _INPUTS)
        if olds.get("version") and not _running(olds):
            changes.append("running")
        return DiffResult(changes=bool(changes), replaces=[])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_reconcile(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = plain(props)
        if outs.get("version"):
            running = _running(props)
            outs["running"] = running
            if not running:
                outs["pid"] = None
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        pid_file, _ = _paths(props)
        stop_process(pid_file)


class ModelServer(Resource, module="mlops", name="LocalModelServer"):
    """An ``mlflow models serve`` process for one model version (none while ``version`` is None)."""

    url: pulumi.Output[str | None]
    """Invocation URL (``/invocations``), or ``None`` while nothing is served."""

    version: pulumi.Output[str | None]
    """Model version the server answers with once it is healthy (``None``: nothing)."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the model server ``name``."""
        outputs = {"url": None, "port": None, "pid": None, "running": None, "log_file": None}
        super().__init__(_ServerProvider(), name, {**props, **outputs}, opts)


class LocalServingEndpoint(ServingEndpointBackend):
    """Serves the gated model version with ``mlflow models serve`` on loopback."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Declares the model server of the version the gate allows (none while pending)."""
        options = ctx.options_as(LocalEndpointOptions)
        layout = StackLayout.of(ctx.target.project_dir, ctx.stack_name)
        tracking = ctx.args.tracking
        server = ModelServer(
            ctx.child_name(),
            {
                "name": ctx.name,
                "model": spec.model,
                "version": served.version,
                "tracking_url": tracking.url,
                "username": tracking.username,
                "password": tracking.password,
                "host": options.host,
                "port_option": options.port,
                "start_timeout_s": options.start_timeout_s,
                "data_dir": str(layout.service("endpoints", ctx.name)),
                "progress_log": str(layout.progress_log),
                "python": sys.executable,
            },
            ctx.opts(additional_secret_outputs=["password"]),
        )
        return EndpointResult(url=server.url, deployed_version=server.version, deployment=[server])
