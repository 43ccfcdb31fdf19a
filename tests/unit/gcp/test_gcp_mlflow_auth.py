"""The gate's MLflow client against a fake Cloud Run tracking server that checks IAM and basic auth.

The fake answers like Cloud Run in front of MLflow: a request without a Google-signed ID
token for the service's URL (audience) in ``X-Serverless-Authorization`` (or
``Authorization``) is refused with 403 before it reaches the container
(https://cloud.google.com/run/docs/authenticating/service-to-service,
https://cloud.google.com/run/docs/securing/managing-access); the container (MLflow with
basic auth) refuses a request without the user's basic credentials with 401. The ID token
is minted by the fake Google token endpoint from the deployer's service-account key
(``google_fake``) and verified with the fake Google key.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from google_fake import SA_EMAIL, FakeGoogle, fake_google

from mlops_infra.backends.gcp import mlflow_auth
from mlops_infra.backends.gcp.mlflow_auth import (
    AUTH_NAME,
    CLIENT_AUTH,
    TOKEN_VARIABLE,
    audience_of,
    cloud_run_client_env,
)
from mlops_infra.gates.registry_client import RegistryClient, client_environment

_BASIC = "Basic " + base64.b64encode(b"admin:s3cret").decode()
_ENV = (
    "MLFLOW_TRACKING_AUTH",
    TOKEN_VARIABLE,
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
)


class FakeTracking:
    """Cloud Run's IAM check in front of MLflow's REST API with basic auth."""

    def __init__(self, google: FakeGoogle) -> None:
        self.google = google
        self.seen: list[dict[str, str]] = []
        self.invokers: list[str] = []
        self.calls: list[str] = []
        self.bodies: dict[str, Any] = {}
        """What MLflow answers (after both checks) per path; default ``{}``."""
        tracking = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                del format, args

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                tracking.calls.append(f"{self.command} {self.path.split('?')[0]}")
                status, body = tracking.answer({k.lower(): v for k, v in self.headers.items()})
                if status == 200:
                    body = tracking.bodies.get(self.path.split("?")[0], body)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PATCH = do_DELETE = do_GET  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, headers: dict[str, str]) -> tuple[int, Any]:
        self.seen.append(headers)
        # Cloud Run: the ID token in X-Serverless-Authorization if present, else Authorization.
        bearer = headers.get("x-serverless-authorization") or headers.get("authorization", "")
        try:
            claims = self.google.verify_id_token(bearer.removeprefix("Bearer "), self.url)
        except ValueError:
            return 403, {"error": "Forbidden: no valid ID token for this service"}
        if claims.get("email") not in self.invokers:
            return 403, {"error": f"Forbidden: {claims.get('email')} lacks run.invoker"}
        # MLflow basic auth, in the Authorization header Cloud Run passes through.
        if headers.get("authorization") != _BASIC:
            return 401, {"error_code": "UNAUTHENTICATED", "message": "basic auth required"}
        return 200, {}


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTracking]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    with fake_google() as google:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(google.credentials_file(tmp_path)))
        fake = FakeTracking(google)
        fake.invokers.append(SA_EMAIL)
        thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield fake
        finally:
            fake.server.shutdown()
            fake.server.server_close()


def test_the_hook_mints_an_id_token_for_the_service_url(tracking: FakeTracking) -> None:
    env = client_environment(CLIENT_AUTH, f"{tracking.url}/")
    assert env["MLFLOW_TRACKING_AUTH"] == AUTH_NAME
    claims = tracking.google.verify_id_token(env[TOKEN_VARIABLE], tracking.url)
    assert claims["email"] == SA_EMAIL
    assert tracking.google.id_token_requests == [tracking.url]


def test_the_gate_passes_with_id_token_and_basic_auth(tracking: FakeTracking) -> None:
    registry = RegistryClient(tracking.url, "admin", "s3cret", CLIENT_AUTH)
    assert registry.latest_version("diagnosis") is None
    headers = tracking.seen[-1]
    assert headers["authorization"] == _BASIC
    assert headers["x-serverless-authorization"].startswith("Bearer ey")


def test_without_the_hook_cloud_run_refuses_the_gate(tracking: FakeTracking) -> None:
    registry = RegistryClient(tracking.url, "admin", "s3cret")
    with pytest.raises(Exception, match="Forbidden: no valid ID token"):
        registry.latest_version("diagnosis")


def test_a_deployer_without_run_invoker_is_refused(tracking: FakeTracking) -> None:
    tracking.invokers.clear()
    registry = RegistryClient(tracking.url, "admin", "s3cret", CLIENT_AUTH)
    with pytest.raises(Exception, match=r"lacks run\.invoker"):
        registry.latest_version("diagnosis")


def test_a_token_for_another_service_is_refused(
    tracking: FakeTracking, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = mlflow_auth.fetch_id_token
    monkeypatch.setattr(
        mlflow_auth, "fetch_id_token", lambda _audience: real("https://other.run.app")
    )
    registry = RegistryClient(tracking.url, "admin", "s3cret", CLIENT_AUTH)
    with pytest.raises(Exception, match="Forbidden: no valid ID token"):
        registry.latest_version("diagnosis")


def test_plain_user_credentials_say_what_to_do(
    tracking: FakeTracking, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user.json"
    user.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id",
                "client_secret": "secret",
                "refresh_token": "refresh",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(user))
    with pytest.raises(RuntimeError, match="impersonate-service-account"):
        cloud_run_client_env(tracking.url)


@pytest.mark.parametrize(
    ("url", "audience"),
    [
        ("https://mlops-tracking-424242.europe-west4.run.app", None),
        ("https://mlops-tracking-424242.europe-west4.run.app/", None),
        ("https://t-abc.a.run.app/api/2.0", "https://t-abc.a.run.app"),
    ],
)
def test_audience_is_the_service_origin(url: str, audience: str | None) -> None:
    assert audience_of(url) == (audience or url.rstrip("/"))


def test_audience_of_something_else_is_an_error() -> None:
    with pytest.raises(ValueError, match="not an http"):
        audience_of("databricks")


def test_the_workload_users_are_written_with_id_token_and_basic_auth(
    tracking: FakeTracking,
) -> None:
    """Issue 14.9: ``<name>-mlflow-user`` reaches the service as the gate does."""
    from mlops_infra.backends.gcp.mlflow_users import ensure_workload_user

    found = {"experiment": {"experiment_id": "7", "lifecycle_stage": "active"}}
    tracking.bodies["/api/2.0/mlflow/experiments/get-by-name"] = found
    props = {
        "tracking_url": tracking.url, "admin_username": "admin", "admin_password": "s3cret",
        "client_auth": CLIENT_AUTH, "username": "wl-job-tune", "password": "p" * 32,
        "experiment": "tune", "model": "tuned",
    }  # fmt: skip
    assert ensure_workload_user(props)["experiment_id"] == "7"
    assert tracking.calls == [
        "POST /api/2.0/mlflow/users/create",
        "GET /api/2.0/mlflow/experiments/get-by-name",
        "POST /api/2.0/mlflow/registered-models/create",
        "POST /api/2.0/mlflow/experiments/permissions/create",
        "POST /api/2.0/mlflow/registered-models/permissions/create",
    ]
    assert all(h["authorization"] == _BASIC for h in tracking.seen)
    assert all(h["x-serverless-authorization"].startswith("Bearer ey") for h in tracking.seen)


def test_without_run_invoker_the_workload_user_fails_with_cloud_runs_403(
    tracking: FakeTracking,
) -> None:
    from mlops_infra.backends.gcp.mlflow_users import MlflowError, ensure_workload_user

    tracking.invokers.clear()
    props = {
        "tracking_url": tracking.url, "admin_username": "admin", "admin_password": "s3cret",
        "client_auth": CLIENT_AUTH, "username": "wl-job-tune", "password": "p" * 32,
        "experiment": "tune", "model": "tuned",
    }  # fmt: skip
    with pytest.raises(MlflowError, match=r"lacks run\.invoker") as raised:
        ensure_workload_user(props)
    assert (raised.value.status, raised.value.error_code) == (403, None)
