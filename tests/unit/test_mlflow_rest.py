"""MLflow REST requests named by MLflow's own service descriptors; the recording proxy."""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from mlops_infra.mlflow_rest import call_name, unexpected_calls
from mlops_infra.rehearse.recorder import recording_proxy


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("POST", "/api/2.0/mlflow/runs/create", "CreateRun"),
        ("GET", "/api/2.0/mlflow/runs/get?run_id=abc", "GetRun"),
        ("POST", "/ajax-api/2.0/mlflow/runs/search", "SearchRuns"),
        # A literal route wins over a templated one (`search` is not a model id).
        ("POST", "/api/2.0/mlflow/logged-models/search", "SearchLoggedModels"),
        ("GET", "/api/2.0/mlflow/logged-models/m-123", "GetLoggedModel"),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-123", "FinalizeLoggedModel"),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-123/tags", "SetLoggedModelTags"),
        ("GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=m&version=1",
         "GetModelVersionDownloadUri"),
        ("POST", "/api/2.0/mlflow/registered-models/alias", "SetRegisteredModelAlias"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/abc/model.pkl", "uploadArtifact"),
        ("GET", "/health", None),
        ("DELETE", "/api/2.0/mlflow/runs/create", None),
    ],
)  # fmt: skip
def test_call_name(method: str, path: str, name: str | None) -> None:
    assert call_name(method, path) == name


def test_unexpected_calls_ignore_artifact_transfers() -> None:
    recorded = {"CreateRun", "uploadArtifact", "DeleteRun", "POST /x"}
    assert unexpected_calls(recorded, {"CreateRun"}) == ["DeleteRun", "POST /x"]


class _Upstream(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        payload = json.dumps({"method": self.command, "path": self.path, "body": body}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = _answer  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextmanager
def _upstream() -> Generator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_proxy_forwards_unchanged_and_records_per_caller() -> None:
    with _upstream() as upstream, recording_proxy(upstream) as recorder:
        answer = requests.post(
            f"{recorder.url('step train')}/api/2.0/mlflow/runs/create",
            json={"experiment_id": "1"}, timeout=10,
        )  # fmt: skip
        requests.get(f"{recorder.url('gate g')}/api/2.0/mlflow/runs/get?run_id=r", timeout=10)
        requests.get(f"{recorder.url('gate g')}/unknown", timeout=10)

    assert answer.status_code == 201
    assert answer.json() == {
        "method": "POST",
        "path": "/api/2.0/mlflow/runs/create",
        "body": '{"experiment_id": "1"}',
    }
    assert recorder.calls("step train") == {"CreateRun"}
    assert recorder.calls("gate g") == {"GetRun", "GET /unknown"}
    assert recorder.calls("nobody") == frozenset()


def test_the_proxy_answers_unsupported_routes_itself() -> None:
    def missing(method: str, path: str) -> int | None:
        return 404 if path.startswith("/api/2.0/mlflow/logged-models") else None

    with _upstream() as upstream, recording_proxy(upstream, unsupported=missing) as recorder:
        refused = requests.post(
            f"{recorder.url('step train')}/api/2.0/mlflow/logged-models",
            json={"experiment_id": "1"}, timeout=10,
        )  # fmt: skip
        forwarded = requests.get(
            f"{recorder.url('step train')}/api/2.0/mlflow/runs/get?run_id=r", timeout=10
        )

    assert (refused.status_code, refused.content) == (404, b"")
    assert forwarded.status_code == 201
    assert recorder.calls("step train") == {"CreateLoggedModel", "GetRun"}
