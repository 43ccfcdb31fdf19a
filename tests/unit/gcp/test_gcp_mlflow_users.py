"""Workload users of the Cloud Run tracking server, on a real MLflow basic-auth server.

The server runs as the tracking container runs it: ``mlflow server --app-name basic-auth``
with the stack's auth config (``default_permission = NO_PERMISSIONS``), SQLite instead of
Cloud SQL. The users are written by the provider's own functions, as ``pulumi up`` writes
them (no Cloud Run hook here: the server is local). MLflow's permission model:
https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/ (EDIT reads and
updates, only MANAGE deletes and changes permissions).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pulumi.dynamic import DiffResult

from mlops_infra.backends.gcp.mlflow_users import (
    WORKLOAD_PERMISSION,
    MlflowError,
    delete_workload_user,
    ensure_workload_user,
    workload_username,
)
from mlops_infra.backends.gcp.tracking_server import ADMIN_USER, auth_config
from mlops_infra.mlflow_rest import WORKLOAD_CALLS

pytest.importorskip("mlflow.server.auth")

ADMIN_PASSWORD = "admin-password-for-the-test"
SERVER_SITE = os.environ.get("MLOPS_TEST_MLFLOW_SERVER_SITE")
"""A folder with another MLflow release for the server only (``pip install --no-deps
--target``), e.g. 3.11.1, the oldest a stack may run; default: the installed MLflow."""
CHURN = workload_username("pipeline", "churn")
FRAUD = workload_username("job", "fraud")


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
        config = workdir / "basic_auth.ini"
        text = auth_config(f"sqlite:///{workdir / 'auth.db'}", ADMIN_PASSWORD)
        config.write_text(text, encoding="utf-8")
        self.env = {
            **os.environ,
            "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{workdir / 'mlflow.db'}",
            "MLFLOW_AUTH_CONFIG_PATH": str(config),
            "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": "flask-secret-for-the-test",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        if SERVER_SITE:
            self.env["PYTHONPATH"] = os.pathsep.join([SERVER_SITE, *sys.path])
        self.passwords = {ADMIN_USER: ADMIN_PASSWORD}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "mlflow", "server"]
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

    def props(self, username: str, experiment: str, model: str) -> dict[str, Any]:
        """The resource's inputs, as the workload's component declares them."""
        return {
            "tracking_url": self.url,
            "admin_username": ADMIN_USER,
            "admin_password": ADMIN_PASSWORD,
            "client_auth": None,
            "username": username,
            "password": self.passwords[username],
            "experiment": experiment,
            "model": model,
        }

    def call(
        self, user: str, method: str, path: str, *, api: str = "2.0", **body: Any
    ) -> requests.Response:
        kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
        return requests.request(
            method,
            f"{self.url}/api/{api}/mlflow/{path}",
            auth=(user, self.passwords[user]),
            timeout=30,
            **kwargs,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("mlflow-users"))
    running.start()
    running.passwords[CHURN] = "churn-password-for-the-test"
    running.passwords[FRAUD] = "fraud-password-for-the-test"
    # The fraud job's experiment existed before (an older stack); churn's did not.
    assert running.call(ADMIN_USER, "POST", "experiments/create", name="fraud").ok
    ensure_workload_user(running.props(CHURN, "churn", "churn-model"))
    ensure_workload_user(running.props(FRAUD, "fraud", "fraud-model"))
    yield running
    running.stop()


def _ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def _workload_calls(server: Server, user: str) -> dict[str, Callable[[], requests.Response]]:
    """Each call of :data:`WORKLOAD_CALLS`, as the entrypoint and runtime make them, in order."""
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
            return server.call(user, method, path.format(**state), **fill(body))

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
        # The entrypoint creates the experiment only when it is missing; it never is now.
        "CreateExperiment": call("POST", "experiments/create", name="churn"),
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
        # mlflow.register_model creates the model and carries on when it exists.
        "CreateRegisteredModel": call("POST", "registered-models/create", name="churn-model"),
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


def test_the_workload_user_makes_every_workload_call_on_its_own_experiment_and_model(
    server: Server,
) -> None:
    calls = _workload_calls(server, CHURN)
    assert set(calls) == WORKLOAD_CALLS
    for name, run in calls.items():
        response = run()
        if name in {"CreateExperiment", "CreateRegisteredModel"}:
            # Allowed (not 403), and the resource's create made them already.
            assert response.status_code == 400, f"{name}: {response.text}"
            assert response.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
            continue
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"


def _refusals(server: Server) -> list[tuple[str, str, str, dict[str, Any]]]:
    fraud = _ok(server.call(ADMIN_USER, "GET", "experiments/get-by-name", experiment_name="fraud"))
    churn = _ok(server.call(ADMIN_USER, "GET", "experiments/get-by-name", experiment_name="churn"))
    fraud_id = fraud["experiment"]["experiment_id"]
    churn_id = churn["experiment"]["experiment_id"]
    now = int(time.time() * 1000)
    grant = {"username": CHURN, "permission": "MANAGE"}
    return [
        ("2.0", "GET", "experiments/get-by-name", {"experiment_name": "fraud"}),
        ("2.0", "POST", "runs/create", {"experiment_id": fraud_id, "start_time": now}),
        ("2.0", "GET", "experiments/get", {"experiment_id": fraud_id}),
        ("2.0", "GET", "registered-models/get", {"name": "fraud-model"}),
        ("2.0", "POST", "model-versions/create", {"name": "fraud-model", "source": "x"}),
        ("2.0", "POST", "experiments/delete", {"experiment_id": churn_id}),
        ("2.0", "DELETE", "registered-models/delete", {"name": "churn-model"}),
        ("2.0", "DELETE", "model-versions/delete", {"name": "churn-model", "version": "1"}),
        ("2.0", "POST", "experiments/permissions/create", {"experiment_id": churn_id, **grant}),
        ("2.0", "PATCH", "registered-models/permissions/update", {"name": "churn-model", **grant}),
        (
            "3.0", "POST", "users/permissions/grant",
            {"resource_type": "experiment", "resource_id": churn_id, **grant},
        ),
        ("2.0", "POST", "users/create", {"username": "intruder", "password": "x" * 16}),
        ("2.0", "PATCH", "users/update-admin", {"username": CHURN, "is_admin": True}),
        ("2.0", "DELETE", "users/delete", {"username": FRAUD}),
    ]  # fmt: skip


_REFUSED = [
    "other-experiment", "run-in-other-experiment", "other-experiment-by-id", "other-model",
    "version-of-other-model", "delete-experiment", "delete-model", "delete-model-version",
    "grant-experiment", "grant-model", "grant-role-api", "create-user", "make-admin",
    "delete-other-user",
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(_REFUSED)), ids=_REFUSED)
def test_the_workload_user_is_refused_elsewhere_and_on_deletes_and_permissions(
    server: Server, index: int
) -> None:
    api, method, path, body = _refusals(server)[index]
    response = server.call(CHURN, method, path, api=api, **body)
    probe = {"experiment_id": "0", "username": CHURN}
    if api == "3.0" and _legacy(
        server.call(ADMIN_USER, "GET", "experiments/permissions/get", **probe)
    ):
        # MLflow 3.11 has no role API: no such route.
        assert response.status_code == 404, response.text
        return
    assert response.status_code == 403, response.text
    # The 403 is the workload user's own: the other workload still reaches its model.
    assert server.call(FRAUD, "GET", "registered-models/get", name="fraud-model").ok


def _legacy(response: requests.Response) -> bool:
    """Whether the server has MLflow 3.11's per-resource permission routes (later: 404)."""
    return not (response.status_code == 404 and "error_code" not in response.text)


def _permission(server: Server, model: str, user: str) -> str:
    """``user``'s permission on ``model``, as the admin reads it over REST."""
    legacy = server.call(
        ADMIN_USER, "GET", "registered-models/permissions/get", name=model, username=user
    )
    if _legacy(legacy):
        return str(_ok(legacy)["registered_model_permission"]["permission"])
    target = {"username": user, "resource_type": "registered_model", "resource_id": model}
    return str(
        _ok(server.call(ADMIN_USER, "GET", "users/permissions/get", api="3.0", **target))[
            "permission"
        ]
    )


def _set_permission(server: Server, model: str, user: str, permission: str) -> None:
    """What an operator might do: give the workload user another permission on its model."""
    body = {"name": model, "username": user, "permission": permission}
    legacy = server.call(ADMIN_USER, "PATCH", "registered-models/permissions/update", **body)
    if _legacy(legacy):
        _ok(legacy)
        return
    target = {"username": user, "resource_type": "registered_model", "resource_id": model}
    _ok(server.call(ADMIN_USER, "POST", "users/permissions/revoke", api="3.0", **target))
    _ok(
        server.call(
            ADMIN_USER, "POST", "users/permissions/grant", api="3.0",
            permission=permission, **target,
        )
    )  # fmt: skip


def test_create_again_is_idempotent_sets_the_new_password_and_turns_manage_into_edit(
    server: Server,
) -> None:
    assert _permission(server, "fraud-model", FRAUD) == WORKLOAD_PERMISSION
    _set_permission(server, "fraud-model", FRAUD, "MANAGE")
    old = server.passwords[FRAUD]
    server.passwords[FRAUD] = "rotated-fraud-password"
    outs = ensure_workload_user(server.props(FRAUD, "fraud", "fraud-model"))
    assert _permission(server, "fraud-model", FRAUD) == WORKLOAD_PERMISSION
    # The experiment that existed was kept, not created again.
    fraud = _ok(server.call(ADMIN_USER, "GET", "experiments/get-by-name", experiment_name="fraud"))
    assert outs["experiment_id"] == fraud["experiment"]["experiment_id"]
    assert server.call(FRAUD, "GET", "registered-models/get", name="fraud-model").ok
    response = server.call(FRAUD, "DELETE", "registered-models/delete", name="fraud-model")
    assert response.status_code == 403, response.text
    refused = requests.get(
        f"{server.url}/api/2.0/mlflow/registered-models/get",
        params={"name": "fraud-model"},
        auth=(FRAUD, old),
        timeout=30,
    )
    assert refused.status_code == 401


def test_delete_removes_the_user_and_keeps_its_history(server: Server) -> None:
    name = workload_username("job", "gone")
    server.passwords[name] = "gone-password-for-the-test"
    props = server.props(name, "gone", "gone-model")
    ensure_workload_user(props)
    assert server.call(name, "GET", "registered-models/get", name="gone-model").ok
    # What it created itself (MLflow made it MANAGE that) goes with it too.
    assert server.call(name, "POST", "experiments/create", name="gone-extra").ok
    delete_workload_user(props)
    assert server.call(name, "GET", "registered-models/get", name="gone-model").status_code == 401
    assert server.call(ADMIN_USER, "GET", "users/get", username=name).status_code == 404
    # Deleting again (a retried destroy) is fine; the experiment and model stay.
    delete_workload_user(props)
    assert server.call(ADMIN_USER, "GET", "registered-models/get", name="gone-model").ok
    assert server.call(ADMIN_USER, "GET", "experiments/get-by-name", experiment_name="gone").ok


def test_a_deleted_experiment_is_restored_for_the_workload(server: Server) -> None:
    name = workload_username("pipeline", "revived")
    server.passwords[name] = "revived-password-for-the-test"
    props = server.props(name, "revived", "revived-model")
    experiment_id = ensure_workload_user(props)["experiment_id"]
    _ok(server.call(ADMIN_USER, "POST", "experiments/delete", experiment_id=experiment_id))
    assert ensure_workload_user(props)["experiment_id"] == experiment_id
    found = _ok(server.call(name, "GET", "experiments/get-by-name", experiment_name="revived"))
    assert found["experiment"]["lifecycle_stage"] == "active"
    assert server.call(name, "POST", "runs/create", experiment_id=experiment_id, start_time=0).ok


def test_a_wrong_admin_password_fails_with_mlflows_answer(server: Server) -> None:
    props = {**server.props(CHURN, "churn", "churn-model"), "admin_password": "wrong-password"}
    with pytest.raises(MlflowError) as raised:
        ensure_workload_user(props)
    assert raised.value.status == 401


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("pipeline", "churn", "wl-pipeline-churn"),
        ("job", "tune", "wl-job-tune"),
        ("job", "a" * 32, f"wl-job-{'a' * 32}"),
    ],
)
def test_workload_usernames(kind: Any, name: str, expected: str) -> None:
    assert workload_username(kind, name) == expected


@pytest.mark.parametrize("name", ["Churn", "has:colon", "trailing-", "", "x" * 250])
def test_workload_usernames_outside_mlflows_rules_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"MLflow workload user .* is not allowed; allowed:"):
        workload_username("job", name)


def test_diff_replaces_on_a_new_user_or_target_and_updates_a_new_password() -> None:
    from mlops_infra.backends.gcp.mlflow_users import (
        _WorkloadUserProvider,  # pyright: ignore[reportPrivateUsage]
    )

    olds = {
        "tracking_url": "https://t", "admin_username": "admin", "admin_password": "a" * 16,
        "client_auth": None, "username": CHURN, "password": "p" * 16, "experiment": "churn",
        "model": "churn-model",
    }  # fmt: skip
    provider = _WorkloadUserProvider()

    def diff(**changed: Any) -> DiffResult:
        return provider.diff("id", olds, {**olds, **changed})

    assert not diff().changes
    assert diff(password="q" * 16).changes
    assert diff(password="q" * 16).replaces == []
    moved = diff(model="other-model")
    assert (moved.replaces, moved.delete_before_replace) == (["model"], True)
    assert diff(username=FRAUD).replaces == ["username"]
