"""A fake SageMaker MLflow endpoint on 127.0.0.1 that refuses requests not signed with SigV4.

It recomputes each request's AWS Signature Version 4 with botocore's signer from the
credentials it was given, and answers 403 when the ``Authorization`` header is missing,
names another key, region or signing service, or carries another signature
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
MLflow Apps also require the app's ARN in ``x-sm-mlflow-app-arn``. Signed requests get
canned answers of the MLflow REST API the gate uses
(https://mlflow.org/docs/latest/api_reference/rest-api.html): one registered model
``diagnosis`` with version ``3`` (run ``r1``, accuracy 0.95, pipeline version ``pv1``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]+)"
)
_VERSION = {
    "name": "diagnosis",
    "version": "3",
    "run_id": "r1",
    "source": "s3://store/mlflow/1/models/m-1/artifacts",
    "status": "READY",
    "tags": [{"key": "mlops.pipeline_version", "value": "pv1"}],
}
_RUN = {
    "info": {
        "run_id": "r1",
        "experiment_id": "1",
        "status": "FINISHED",
        "lifecycle_stage": "active",
    },
    "data": {"metrics": [{"key": "accuracy", "value": 0.95, "timestamp": 0, "step": 0}]},
}


@dataclass
class SigV4Endpoint:
    """What the fake expects and what it saw.

    Attributes:
        access_key / secret_key: The only credentials it accepts.
        region / service: The signing scope it accepts (``sagemaker-mlflow`` for tracking
            servers, ``sagemaker`` for MLflow Apps).
        app_arn: The MLflow App ARN it requires in ``x-sm-mlflow-app-arn`` (apps only).
        accepted / refused: Paths answered, and (path, reason) refused.
    """

    access_key: str
    secret_key: str
    region: str
    service: str
    app_arn: str | None = None
    accepted: list[str] = field(default_factory=list[str])
    refused: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])

    def check(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why the request is refused, or ``None`` when it is correctly signed."""
        match = _AUTH.fullmatch(headers.get("authorization", ""))
        if match is None:
            return "no SigV4 authorization header"
        scope = (match["key"], match["region"], match["service"])
        if scope != (self.access_key, self.region, self.service):
            return f"credential scope {scope} not accepted"
        if self.app_arn is not None and headers.get("x-sm-mlflow-app-arn") != self.app_arn:
            return "x-sm-mlflow-app-arn missing or wrong"
        signed = match["signed"].split(";")
        request = AWSRequest(
            method=method, url=url, data=body, headers={h: headers[h] for h in signed}
        )
        request.context["timestamp"] = headers["x-amz-date"]
        signer = SigV4Auth(Credentials(self.access_key, self.secret_key), self.service, self.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        return None if expected == match["sig"] else "signature does not match"


def _answer(path: str, query: Mapping[str, list[str]]) -> tuple[int, dict[str, Any]]:
    if path.endswith("/model-versions/search"):
        return 200, {"model_versions": [_VERSION]}
    if path.endswith("/model-versions/get"):
        return 200, {"model_version": _VERSION}
    if path.endswith("/runs/get"):
        return 200, {"run": _RUN}
    if path.endswith("/model-versions/get-download-uri"):
        return 200, {"artifact_uri": _VERSION["source"]}
    if path.endswith("/registered-models/alias") and query.get("alias") == ["champion"]:
        return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no alias"}
    return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path}


@contextmanager
def sigv4_endpoint(endpoint: SigV4Endpoint) -> Iterator[str]:
    """Serves ``endpoint`` on 127.0.0.1; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            url = f"http://{headers['host']}{self.path}"
            reason = endpoint.check(self.command, url, headers, body)
            split = urlsplit(self.path)
            if reason is not None:
                endpoint.refused.append((split.path, reason))
                status, answer = 403, {"error_code": "PERMISSION_DENIED", "message": reason}
            else:
                endpoint.accepted.append(split.path)
                status, answer = _answer(split.path, parse_qs(split.query))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle  # noqa: N815 - http.server names

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
