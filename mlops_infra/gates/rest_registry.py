"""The MLflow calls of a gate over MLflow's REST API, without importing MLflow.

A gate runs in the deployer's ``pulumi up``, in the dynamic provider's fresh process:
importing MLflow's client there took 2.1 to 2.3 s on a 2-CPU machine, most of every
no-change ``up`` of the local stack (``benchmarks/README.md``). A tracking server that
needs no client-side auth plugin (an ``http(s)`` URL, no ``client_auth`` hook: the local
backend, self-hosted servers with basic auth) is asked over plain HTTP instead. Servers
that need a plugin (SageMaker ARNs, ``azureml://``, identity tokens) keep
:class:`mlflow.MlflowClient`.

Each method answers like the ``MlflowClient`` method of the same name, for what the gate
reads (``tests/unit/gates/test_rest_registry.py`` runs both against one real server).
Endpoints, parameters and error codes: MLflow's REST API reference,
https://mlflow.org/docs/latest/api_reference/rest-api.html (model registry:
``model-versions/search``, ``model-versions/get``, ``model-versions/get-download-uri``,
``model-versions/set-tag``, ``model-versions/delete-tag``, ``registered-models/alias``;
tracking: ``runs/get``). Credentials as MLflow's client reads them
(https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/): basic auth from
the given user and password, else a bearer ``MLFLOW_TRACKING_TOKEN``.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

__all__ = ["RestRegistry", "RestRegistryError", "answers_over_rest"]

_API = "/api/2.0/mlflow/"
_TIMEOUT_S = 120.0
"""Seconds a request may take (MLflow's own default, ``MLFLOW_HTTP_REQUEST_TIMEOUT``)."""
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_ATTEMPTS = 4
_PAGE = 1000


def answers_over_rest(tracking_url: str, client_auth: str | None) -> bool:
    """Whether the gate may ask ``tracking_url`` over plain HTTP (no auth plugin needed)."""
    scheme = urllib.parse.urlsplit(tracking_url).scheme
    return not client_auth and scheme in ("http", "https")


class RestRegistryError(Exception):
    """An MLflow REST call failed; ``error_code`` is MLflow's (``RESOURCE_DOES_NOT_EXIST``...).

    ``error_code`` is ``None`` when the server gave none (a proxy's error page, a refused
    connection); ``status`` is the HTTP status, ``None`` when no answer came.
    """

    def __init__(self, message: str, *, error_code: str | None, status: int | None) -> None:
        """Creates the error."""
        super().__init__(message)
        self.error_code = error_code
        self.status = status


@dataclass(frozen=True)
class RestModelVersion:
    """A model version as the gate reads it."""

    version: str
    """Version number."""
    run_id: str | None
    """Run it was registered from, if any."""
    tags: dict[str, str] = field(default_factory=dict[str, str])
    """Its tags."""


@dataclass(frozen=True)
class RestRunData:
    """A run's data as the gate reads it."""

    metrics: dict[str, float]
    """Latest value of each metric."""


@dataclass(frozen=True)
class RestRun:
    """A run as the gate reads it."""

    data: RestRunData
    """Its metrics."""


class RestRegistry:
    """The ``MlflowClient`` methods a gate calls, over MLflow's REST API.

    Args:
        tracking_url: ``http(s)`` URL of the tracking server.
        username: Basic-auth user, if any.
        password: Basic-auth password, if any.
    """

    def __init__(
        self, tracking_url: str, username: str | None = None, password: str | None = None
    ) -> None:
        """Prepares the calls (connects on the first)."""
        self._base = tracking_url.rstrip("/") + _API
        self._authorization: str | None = None
        if username and password:
            pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self._authorization = f"Basic {pair}"
        elif token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
            self._authorization = f"Bearer {token}"

    def search_model_versions(
        self,
        filter_string: str,
        order_by: list[str] | None = None,
        max_results: int | None = None,
    ) -> list[RestModelVersion]:
        """Versions matching ``filter_string`` (every page, up to ``max_results``)."""
        found: list[RestModelVersion] = []
        token: str | None = None
        while True:
            page = min(_PAGE, max_results - len(found)) if max_results else _PAGE
            query: dict[str, Any] = {"filter": filter_string, "max_results": page}
            if order_by:
                query["order_by"] = order_by
            if token:
                query["page_token"] = token
            answer = self._call("GET", "model-versions/search", query)
            found.extend(_version(v) for v in _list(answer.get("model_versions")))
            token = answer.get("next_page_token")
            if not token or (max_results and len(found) >= max_results):
                return found

    def get_model_version(self, name: str, version: str) -> RestModelVersion:
        """One version."""
        answer = self._call("GET", "model-versions/get", {"name": name, "version": version})
        return _version(answer.get("model_version"))

    def get_model_version_by_alias(self, name: str, alias: str) -> RestModelVersion:
        """The version ``alias`` names."""
        answer = self._call("GET", "registered-models/alias", {"name": name, "alias": alias})
        return _version(answer.get("model_version"))

    def get_run(self, run_id: str) -> RestRun:
        """A run's latest metrics."""
        answer = self._call("GET", "runs/get", {"run_id": run_id})
        data = _mapping(_mapping(answer.get("run")).get("data"))
        metrics = {
            str(m["key"]): float(m["value"]) for m in map(_mapping, _list(data.get("metrics")))
        }
        return RestRun(data=RestRunData(metrics=metrics))

    def get_model_version_download_uri(self, name: str, version: str) -> str:
        """Where a version's model artifacts are."""
        query = {"name": name, "version": version}
        return str(self._call("GET", "model-versions/get-download-uri", query)["artifact_uri"])

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        """Sets a tag on a version."""
        body = {"name": name, "version": version, "key": key, "value": value}
        self._call("POST", "model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        """Removes a tag from a version."""
        body = {"name": name, "version": version, "key": key}
        self._call("DELETE", "model-versions/delete-tag", body)

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        """Points ``alias`` at ``version``."""
        body = {"name": name, "alias": alias, "version": version}
        self._call("POST", "registered-models/alias", body)

    def _call(self, method: str, endpoint: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One call, retried on throttling, server errors and refused connections."""
        url, data = self._base + endpoint, None
        if method == "GET":
            url += "?" + urllib.parse.urlencode(payload, doseq=True)
        else:
            data = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        # The base URL is http(s): answers_over_rest decides before this class is used.
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        attempt = 1
        while True:
            try:
                with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310 - http(s) only
                    return _mapping(json.loads(response.read() or b"{}"))
            except urllib.error.HTTPError as error:
                failure = _http_failure(method, endpoint, error)
                if error.code not in _RETRIED_STATUSES or attempt == _ATTEMPTS:
                    raise failure from error
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == _ATTEMPTS:
                    msg = f"MLflow {method} {endpoint}: no answer from {self._base}: {error}"
                    raise RestRegistryError(msg, error_code=None, status=None) from error
            time.sleep(0.5 * 2 ** (attempt - 1))
            attempt += 1


def _http_failure(method: str, endpoint: str, error: urllib.error.HTTPError) -> RestRegistryError:
    body = error.read().decode("utf-8", errors="replace")
    try:
        answer = _mapping(json.loads(body))
    except ValueError:
        answer = {}
    code = answer.get("error_code")
    detail = answer.get("message") or body[:200] or error.reason
    named = f" {code}" if code else ""
    msg = f"MLflow {method} {endpoint}: HTTP {error.code}{named}: {detail}"
    return RestRegistryError(msg, error_code=str(code) if code else None, status=error.code)


def _mapping(value: object) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return cast(list[Any], value) if isinstance(value, list) else []


def _version(value: object) -> RestModelVersion:
    found = _mapping(value)
    tags = {str(t["key"]): str(t.get("value", "")) for t in map(_mapping, _list(found.get("tags")))}
    return RestModelVersion(
        version=str(found.get("version")), run_id=found.get("run_id") or None, tags=tags
    )
