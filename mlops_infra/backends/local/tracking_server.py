"""Local tracking server: an ``mlflow server`` process over sqlite and the artifact store.

Loopback only; optional basic auth with a generated admin password kept as a Pulumi
secret. Its process has its own session, pid and log files; ``read`` health-checks it,
so ``pulumi refresh`` sees a dead server and ``pulumi up`` restarts it. Runs, models
and artifacts live in files that survive restart, replacement and destroy (unless
``purge_on_delete``).
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import sys
import urllib.error
import urllib.request
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

from mlops_infra.backends.local.dynamic import as_int, changed_keys, plain, write_private
from mlops_infra.backends.local.layout import StackLayout, log_progress, path_of_file_uri
from mlops_infra.backends.local.options import LocalTrackingOptions
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
    TrackingRef,
    TrackingServerArgs,
    TrackingServerBackend,
)
from mlops_infra.specs import TrackingServerSpec, effective_tracking

__all__ = ["LocalTrackingServer", "MlflowServer"]

#: Inputs whose change restarts the server in place (data kept).
_RESTART_ON = ("host", "port_option", "workers", "auth", "store_path", "python", "admin_username")
_ADMIN = "admin"


def _paths(props: dict[str, Any]) -> tuple[Path, Path, Path]:
    data_dir = Path(props["data_dir"])
    return data_dir, data_dir / "server.pid", data_dir / "server.log"


def _health_url(props: dict[str, Any], port: int) -> str:
    return f"http://{props['host']}:{port}/health"


def _flask_secret(data_dir: Path) -> str:
    # One secret per server, kept with its data so restarts keep sessions valid.
    key_file = data_dir / "flask-secret"
    if not key_file.exists():
        write_private(key_file, secrets.token_urlsafe(48))
    return key_file.read_text(encoding="utf-8").strip()


def _rotate_admin_password(props: dict[str, Any], port: int, old: str, new: str) -> None:
    """Changes the admin password on a running server (MLflow only sets it on first start)."""
    url = f"http://{props['host']}:{port}/api/2.0/mlflow/users/update-password"
    body = json.dumps(
        {"username": props["admin_username"], "password": new, "current_password": old}
    ).encode()
    token = base64.b64encode(f"{props['admin_username']}:{old}".encode()).decode()
    request = urllib.request.Request(
        url,
        data=body,
        method="PATCH",
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback http
            return
    except urllib.error.HTTPError as error:
        msg = f"changing the admin password was refused: {error.code} {error.read()[:300]!r}"
        raise BackendError(msg) from error


def _start(props: dict[str, Any], port: int, password: str | None) -> dict[str, Any]:
    data_dir, pid_file, log_file = _paths(props)
    data_dir.mkdir(parents=True, exist_ok=True)
    progress = Path(props["progress_log"])
    stop_process(pid_file)  # a server left by an interrupted run is replaced, never orphaned
    if not port_is_free(props["host"], port):
        msg = (
            f"port {port} on {props['host']} is in use by another program; stop it or set "
            "options.port on the tracking server"
        )
        raise BackendError(msg)
    artifacts = Path(props["store_path"]) / "mlflow"
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        props["python"],
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{data_dir / 'mlflow.db'}",
        "--artifacts-destination",
        str(artifacts),
        "--serve-artifacts",
        "--host",
        props["host"],
        "--port",
        str(port),
        "--workers",
        str(int(props["workers"])),
    ]
    # MLflow's job execution runs an unauthenticated job API and extra workers; keep it off.
    env = child_environment(props["python"], {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    if props["auth"]:
        config = data_dir / "basic_auth.ini"
        config.write_text(
            "[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = sqlite:///{data_dir / 'basic_auth.db'}\n"
            f"admin_username = {props['admin_username']}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
            encoding="utf-8",
        )
        command += ["--app-name", "basic-auth"]
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(config)
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = password or ""
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = _flask_secret(data_dir)
    log_progress(progress, props["name"], f"starting mlflow server on {props['host']}:{port}")
    record = start_process(command, pid_file=pid_file, log_file=log_file, env=env, cwd=data_dir)
    try:
        wait_for_http(
            _health_url(props, port),
            timeout_s=float(props["start_timeout_s"]),
            record=record,
            log_file=log_file,
            progress=lambda message: log_progress(progress, props["name"], message),
        )
    except BackendError:
        stop_process(pid_file)
        raise
    log_progress(progress, props["name"], f"mlflow server ready at http://{props['host']}:{port}")
    return {
        **plain(props),
        "port": port,
        "url": f"http://{props['host']}:{port}",
        "pid": record.pid,
        "running": True,
        "username": props["admin_username"] if props["auth"] else None,
        "password": password,
        "log_file": str(log_file),
    }


def _running(props: dict[str, Any]) -> bool:
    _, pid_file, _ = _paths(props)
    port = as_int(props.get("port"))
    return bool(port) and is_alive(read_record(pid_file)) and http_ok(_health_url(props, int(port)))


class _ServerProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        port = as_int(props["port_option"]) or find_free_port(props["host"])
        password = props.get("admin_password") or (
            secrets.token_urlsafe(24) if props["auth"] else None
        )
        outs = _start(props, port, password)
        return CreateResult(id_=f"mlflow-{props['name']}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(
            olds, news, (*_RESTART_ON, "data_dir", "admin_password", "purge_on_delete")
        )
        if not _running(olds):
            changes.append("running")
        return DiffResult(
            changes=bool(changes),
            replaces=["data_dir"] if "data_dir" in changes else [],
            delete_before_replace=True,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        port = (
            as_int(news["port_option"]) or as_int(olds.get("port")) or find_free_port(news["host"])
        )
        old_password: str | None = olds.get("password")
        password = news.get("admin_password") or old_password
        if news["auth"] and not password:
            password = secrets.token_urlsafe(24)
        restart = changed_keys(olds, news, _RESTART_ON) or not _running(olds)
        if not restart:
            # Only the password or purge_on_delete changed: no restart needed.
            if news["auth"] and old_password and password and password != old_password:
                _rotate_admin_password(news, port, old_password, password)
            return UpdateResult(outs={**plain(olds), **plain(news), "password": password})
        outs = _start(news, port, password)
        if news["auth"] and olds.get("auth") and old_password and password != old_password:
            _rotate_admin_password(news, port, old_password, str(password))
        return UpdateResult(outs=outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not Path(props["data_dir"]).is_dir():
            return ReadResult(None, {})
        outs = plain(props)
        running = _running(props)
        outs["running"] = running
        if not running:
            outs["pid"] = None
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        data_dir, pid_file, _ = _paths(props)
        stop_process(pid_file)
        if props.get("purge_on_delete"):
            shutil.rmtree(data_dir, ignore_errors=True)


class MlflowServer(Resource, module="mlops", name="LocalMlflowServer"):
    """An ``mlflow server`` process managed by Pulumi."""

    url: pulumi.Output[str]
    """Tracking URI."""

    username: pulumi.Output[str | None]
    """Admin user when basic auth is on."""

    password: pulumi.Output[str | None]
    """Admin password (secret) when basic auth is on."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the server ``name``."""
        outputs = {
            "url": None,
            "port": None,
            "pid": None,
            "running": None,
            "username": None,
            "password": None,
            "log_file": None,
        }
        super().__init__(_ServerProvider(), name, {**props, **outputs}, opts)


class LocalTrackingServer(TrackingServerBackend):
    """``mlflow server`` on loopback with a sqlite registry and proxied artifacts."""

    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        """Declares the server process."""
        options = ctx.options_as(LocalTrackingOptions)
        layout = StackLayout.of(ctx.target.project_dir, ctx.stack_name)
        auth = bool(effective_tracking(spec, ctx.target.profile).auth)
        store_path = pulumi.Output.from_input(ctx.args.store.uri).apply(_local_path)
        server = MlflowServer(
            ctx.child_name(),
            {
                "name": ctx.name,
                "data_dir": str(layout.service("tracking", ctx.name)),
                "store_path": store_path,
                "host": options.host,
                "port_option": options.port,
                "workers": options.workers,
                "start_timeout_s": options.start_timeout_s,
                "auth": auth,
                "admin_username": _ADMIN,
                "admin_password": ctx.args.admin_password,
                "python": sys.executable,
                "progress_log": str(layout.progress_log),
                "purge_on_delete": spec.purge_on_delete,
            },
            ctx.opts(stateful=True, additional_secret_outputs=["password", "admin_password"]),
        )
        if not auth:
            return TrackingRef(url=server.url)
        return TrackingRef(url=server.url, username=server.username, password=server.password)


def _local_path(uri: str) -> str:
    if not uri.startswith("file://"):
        msg = f"the local tracking server needs a file:// artifact store; got {uri!r}"
        raise BackendError(msg)
    return str(path_of_file_uri(uri))
