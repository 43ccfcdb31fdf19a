"""A contract fake of an Azure ML workspace's MLflow endpoint, refusing requests without auth.

It answers the MLflow REST calls the gate, the alias and the run lookup make, under any
path prefix (``azureml-mlflow`` sends ``/mlflow/v2.0/subscriptions/.../workspaces/<ws>/
api/2.0/mlflow/...``; plain MLflow ``/api/2.0/mlflow/...``), and follows what Azure ML
documents of its MLflow support
(https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-models-mlflow ,
https://learn.microsoft.com/en-us/azure/machine-learning/how-to-track-experiments-mlflow):

* every request needs a Microsoft Entra ID bearer token, else 401;
* model-version tags are supported (set, delete, search); registered-model aliases and
  the MLflow 3 logged-models API are not: 404 ``ENDPOINT_NOT_FOUND``, as Azure ML answers
  (see Azure/azure-sdk-for-python issues on ``log_model`` with MLflow 3).
It can serve HTTPS with a self-signed certificate (``azureml://`` URIs are always HTTPS).
"""

from __future__ import annotations

import datetime
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "fake-entra-token"
_API = "/api/2.0/mlflow/"


@dataclass
class Version:
    """A registered model version."""

    name: str
    version: str
    run_id: str
    tags: dict[str, str] = field(default_factory=dict[str, str])

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "source": f"azureml://jobs/{self.run_id}/outputs/artifacts/model",
            "status": "READY",
            "creation_timestamp": 1,
            "last_updated_timestamp": 1,
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
        }


@dataclass
class RegistryState:
    """What the fake registry holds and saw."""

    versions: list[Version] = field(default_factory=list[Version])
    metrics: dict[str, dict[str, float]] = field(default_factory=dict[str, dict[str, float]])
    seen: list[str] = field(default_factory=list[str])
    refused: list[str] = field(default_factory=list[str])
    headers: list[str] = field(default_factory=list[str])

    def find(self, name: str, version: str) -> Version | None:
        return next((v for v in self.versions if (v.name, v.version) == (name, version)), None)


class _Handler(BaseHTTPRequestHandler):
    state: RegistryState

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self, what: str) -> None:
        self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": what})

    def _handle(self) -> None:
        url = urlparse(self.path)
        self.state.headers.append(self.headers.get("Authorization") or "")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.state.refused.append(url.path)
            self._answer(401, {"error_code": "UNAUTHENTICATED", "message": "Entra ID token"})
            return
        if _API not in url.path:
            self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": url.path})
            return
        call = url.path.split(_API, 1)[1]
        self.state.seen.append(f"{self.command} {call}")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}") if length else {}
        args = {**query, **body}
        if call == "model-versions/search":
            name = str(args.get("filter", "")).split("'")[1]
            found = [v for v in self.state.versions if v.name == name]
            if "DESC" in str(args.get("order_by", "")):
                found.sort(key=lambda v: -int(v.version))
            limit = int(args.get("max_results") or len(found) or 1)
            self._answer(200, {"model_versions": [v.as_json() for v in found[:limit]]})
        elif call == "model-versions/get":
            version = self.state.find(str(args["name"]), str(args["version"]))
            if version is None:
                self._missing("no such version")
            else:
                self._answer(200, {"model_version": version.as_json()})
        elif call == "model-versions/set-tag":
            version = self.state.find(str(args["name"]), str(args["version"]))
            if version is None:
                self._missing("no such version")
                return
            version.tags[str(args["key"])] = str(args["value"])
            self._answer(200, {})
        elif call == "model-versions/delete-tag":
            version = self.state.find(str(args["name"]), str(args["version"]))
            if version is not None:
                version.tags.pop(str(args["key"]), None)
            self._answer(200, {})
        elif call == "registered-models/get":
            name = str(args["name"])
            if not any(v.name == name for v in self.state.versions):
                self._missing("no such model")
                return
            self._answer(200, {"registered_model": {"name": name, "tags": []}})
        elif call == "runs/get":
            run_id = str(args["run_id"])
            metrics = self.state.metrics.get(run_id, {})
            self._answer(200, {"run": _run(run_id, metrics)})
        else:
            # Registered-model aliases, logged models (MLflow 3) and the rest: not on Azure ML.
            self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": call})

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()


def _run(run_id: str, metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "info": {
            "run_id": run_id,
            "run_uuid": run_id,
            "run_name": run_id,
            "experiment_id": "1",
            "user_id": "u",
            "status": "FINISHED",
            "start_time": 1,
            "end_time": 2,
            "artifact_uri": f"azureml://jobs/{run_id}/outputs/artifacts",
            "lifecycle_stage": "active",
        },
        "data": {
            "metrics": [
                {"key": k, "value": v, "timestamp": 1, "step": 0} for k, v in metrics.items()
            ],
            "params": [],
            "tags": [],
        },
    }


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to ``directory``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def mlflow_fake(
    state: RegistryState | None = None, *, https: bool = False
) -> Iterator[tuple[str, RegistryState, Path | None]]:
    """Runs the fake; yields ``host:port``, its state and (HTTPS) the CA bundle to trust."""
    held = state or RegistryState()
    handler = type("Handler", (_Handler,), {"state": held})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with tempfile.TemporaryDirectory() as tmp:
        ca: Path | None = None
        if https:
            ca, key = _self_signed(Path(tmp))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(ca, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{server.server_port}", held, ca
        finally:
            server.shutdown()
            server.server_close()
