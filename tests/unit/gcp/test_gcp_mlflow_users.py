"""Workload users of the Cloud Run tracking server, on a real MLflow basic-auth server.

The server runs exactly as the tracking container runs it: the bootstrap's source by
``python -c`` (:func:`server_command`), then ``mlflow server --app-name basic-auth`` with the
stack's auth config (``default_permission = NO_PERMISSIONS``). MLflow's permission model:
https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/ (EDIT reads and
updates, only MANAGE deletes and changes permissions; creators get MANAGE).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mlops_infra.backends.gcp.mlflow_users import (
    RUNNER_USER,
    WORKLOAD_PERMISSION,
    WORKLOAD_USERS,
    server_command,
)
from mlops_infra.backends.gcp.tracking_server import ADMIN_USER, auth_config
from mlops_infra.mlflow_rest import WORKLOAD_CALLS

pytest.importorskip("mlflow.server.auth")

ADMIN_PASSWORD = "admin-password-for-the-test"
RUNNER_PASSWORD = "runner-password-for-the-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The tracking container's command on this machine (SQLite instead of Cloud SQL)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        database = f"sqlite:///{workdir / 'mlflow.db'}"
        config = workdir / "basic_auth.ini"
        config.write_text(auth_config(f"sqlite:///{workdir / 'auth.db'}"), encoding="utf-8")
        self.env = {
            **os.environ,
            "MLFLOW_BACKEND_STORE_URI": database,
            "MLFLOW_AUTH_CONFIG_PATH": str(config),
            "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": "flask-secret-for-the-test",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            WORKLOAD_USERS[RUNNER_USER]: RUNNER_PASSWORD,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = server_command()
        argv = [sys.executable, *command[1:]]
        argv += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        argv += ["--default-artifact-root", (self.workdir / "artifacts").as_uri()]
        argv += ["--no-serve-artifacts", "--app-name", "basic-auth"]
        with (self.workdir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.workdir / "server.log").read_text()
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        pytest.fail((self.workdir / "server.log").read_text())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def call(self, user: str, method: str, path: str, **body: Any) -> requests.Response:
        password = ADMIN_PASSWORD if user == ADMIN_USER else self.env[WORKLOAD_USERS[RUNNER_USER]]
        kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
        return requests.request(
            method, f"{self.url}/api/2.0/mlflow/{path}", auth=(user, password), timeout=30, **kwargs
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("mlflow-users"))
    running.start()
    # What an older stack (every workload as admin) or an operator left behind.
    assert running.call(ADMIN_USER, "POST", "experiments/create", name="churn").ok
    assert running.call(ADMIN_USER, "POST", "registered-models/create", name="churn-model").ok
    # The next start grants the runner what exists.
    running.restart()
    yield running
    running.stop()


def _ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def _runner_calls(server: Server) -> dict[str, Callable[[], requests.Response]]:
    """Each call of :data:`WORKLOAD_CALLS`, as the runner makes it, in order."""
    state: dict[str, str] = {}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**state)
        if isinstance(value, list):
            return [fill(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
        return value

    def call(method: str, path: str, **body: Any) -> Callable[[], requests.Response]:
        def run() -> requests.Response:
            return server.call(RUNNER_USER, method, path.format(**state), **fill(body))

        return run

    def remember(
        key: str, run: Callable[[], requests.Response], *path: str
    ) -> Callable[[], requests.Response]:
        def wrapped() -> requests.Response:
            response = run()
            value: Any = response.json()
            for part in path:
                value = value[part]
            state[key] = str(value)
            return response

        return wrapped

    now = str(int(time.time() * 1000))
    return {
        "GetExperimentByName": remember(
            "churn", call("GET", "experiments/get-by-name", experiment_name="churn"),
            "experiment", "experiment_id",
        ),
        "CreateExperiment": remember(
            "experiment", call("POST", "experiments/create", name="fraud"), "experiment_id"
        ),
        "CreateRun": remember(
            "run", call("POST", "runs/create", experiment_id="{churn}", start_time=now),
            "run", "info", "run_id",
        ),
        "GetRun": call("GET", "runs/get", run_id="{run}"),
        "LogBatch": call(
            "POST", "runs/log-batch", run_id="{run}",
            metrics=[{"key": "auc", "value": 0.9, "timestamp": int(now), "step": 0}],
            params=[{"key": "train.depth", "value": "4"}],
        ),
        "SearchRuns": call("POST", "runs/search", experiment_ids=["{churn}"]),
        "CreateRegisteredModel": call("POST", "registered-models/create", name="fraud-model"),
        "GetRegisteredModel": call("GET", "registered-models/get", name="churn-model"),
        "CreateModelVersion": remember(
            "version",
            call(
                "POST", "model-versions/create", name="churn-model",
                source="runs:/{run}/model", run_id="{run}",
            ),
            "model_version", "version",
        ),
        "SetModelVersionTag": call(
            "POST", "model-versions/set-tag", name="churn-model", version="{version}",
            key="mlops.workflow_execution", value="exec-1",
        ),
        "UpdateRun": call("POST", "runs/update", run_id="{run}", status="FINISHED"),
    }  # fmt: skip


def test_the_runner_makes_every_workload_call_on_what_exists_and_what_it_creates(
    server: Server,
) -> None:
    calls = _runner_calls(server)
    assert set(calls) == WORKLOAD_CALLS
    for name, run in calls.items():
        response = run()
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "registered-models/delete", {"name": "churn-model"}),
        ("POST", "experiments/delete", {"experiment_id": "1"}),
        ("DELETE", "model-versions/delete", {"name": "churn-model", "version": "1"}),
        (
            "POST",
            "experiments/permissions/create",
            {"experiment_id": "1", "username": RUNNER_USER, "permission": "MANAGE"},
        ),
        (
            "PATCH",
            "registered-models/permissions/update",
            {"name": "churn-model", "username": RUNNER_USER, "permission": "MANAGE"},
        ),
        ("POST", "users/create", {"username": "intruder", "password": "x" * 16}),
        ("PATCH", "users/update-admin", {"username": RUNNER_USER, "is_admin": True}),
    ],
    ids=[
        "delete-model",
        "delete-experiment",
        "delete-model-version",
        "grant-experiment",
        "grant-model",
        "create-user",
        "make-admin",
    ],
)
def test_the_runner_may_neither_delete_nor_change_permissions(
    server: Server, method: str, path: str, body: dict[str, Any]
) -> None:
    response = server.call(RUNNER_USER, method, path, **body)
    assert response.status_code == 403, response.text
    # The admin (kept for operators) still may: the 403 is the runner's permission.
    assert server.call(ADMIN_USER, "GET", "registered-models/get", name="churn-model").ok


def _runner_permission(server: Server, model: str) -> str:
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store: Any = SqlAlchemyStore()
    with warnings.catch_warnings():
        # Alembic's deprecation notice about MLflow's own migration config.
        warnings.simplefilter("ignore", DeprecationWarning)
        store.init_db(f"sqlite:///{server.workdir / 'auth.db'}")
    return str(store.get_registered_model_permission(model, RUNNER_USER).permission)


def test_the_next_start_turns_manage_into_edit_and_sets_a_new_password(server: Server) -> None:
    _ok(server.call(RUNNER_USER, "POST", "registered-models/create", name="own-model"))
    # MLflow makes the creator MANAGE it (until the next start).
    assert _runner_permission(server, "own-model") == "MANAGE"
    old = server.env[WORKLOAD_USERS[RUNNER_USER]]
    server.env[WORKLOAD_USERS[RUNNER_USER]] = "rotated-runner-password"
    server.restart()
    assert _runner_permission(server, "own-model") == WORKLOAD_PERMISSION
    response = server.call(RUNNER_USER, "DELETE", "registered-models/delete", name="own-model")
    assert response.status_code == 403, response.text
    refused = requests.get(
        f"{server.url}/api/2.0/mlflow/registered-models/get",
        params={"name": "churn-model"},
        auth=(RUNNER_USER, old),
        timeout=30,
    )
    assert refused.status_code == 401


def test_the_server_refuses_to_start_without_a_workload_password(tmp_path: Path) -> None:
    server = Server(tmp_path)
    del server.env[WORKLOAD_USERS[RUNNER_USER]]
    command = server_command()
    done = subprocess.run(
        [sys.executable, *command[1:], "--port", str(server.port)],
        env=server.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "workload user passwords missing from the environment: MLOPS_RUNNER_PASSWORD" in (
        done.stderr
    )
