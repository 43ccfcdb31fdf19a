"""Azure Resource Manager REST calls, for the dynamic resources that act at ``pulumi up``.

What pulumi-azure-native cannot express is done through the documented REST API with a
Microsoft Entra ID bearer token for ``https://management.azure.com/.default`` (from
:class:`azure.identity.DefaultAzureCredential`: environment, workload or managed identity,
Azure CLI): submitting a pipeline job once per version, deploying a model version to an
online endpoint and moving its traffic. Standard library HTTP only, so the provider
process needs nothing but ``azure-identity``.

https://learn.microsoft.com/en-us/rest/api/azure/#create-the-request
"""

from __future__ import annotations

import json
import sys
import time
import typing
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = [
    "ARM_ENDPOINT",
    "ARM_SCOPE",
    "ML_API_VERSION",
    "ArmClient",
    "ArmError",
    "default_token",
    "integral",
    "progress",
]

ARM_ENDPOINT = "https://management.azure.com"
"""Azure Resource Manager in the public cloud."""

ARM_SCOPE = "https://management.azure.com/.default"
"""The token scope of Azure Resource Manager."""

ML_API_VERSION = "2025-12-01"
"""The Azure ML REST API version used here: the one pulumi-azure-native 3.x declares the
workspace's jobs and online endpoints with."""

_RETRIED = frozenset({408, 429, 500, 502, 503, 504})
_ATTEMPTS = 4

# Any: ARM answers JSON objects whose shape is the resource type's (validated by Azure).
Json = dict[str, Any]


def integral(value: Any) -> Any:
    """``value`` with whole floats as ints.

    Pulumi passes every number to a dynamic provider as a double; Azure's integer fields
    (instance counts, capacity, requests per instance) take integers, so every request
    body goes out through this.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in typing.cast(dict[str, Any], value).items()}
    if isinstance(value, list):
        return [integral(v) for v in typing.cast(list[Any], value)]
    return value


class ArmError(RuntimeError):
    """An ARM request that failed, with Azure's error code and message."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        """Builds the error from the HTTP answer."""
        self.status = status
        code, message = "", body[:500]
        try:
            error = typing.cast(Json, json.loads(body).get("error") or {})
            code, message = str(error.get("code", "")), str(error.get("message", message))
        except (ValueError, AttributeError):
            pass
        self.code = code
        super().__init__(f"{method} {url} failed with HTTP {status} {code}: {message}")


def default_token() -> str:
    """An Entra ID access token for ARM from the deployer's ambient Azure credentials."""
    try:
        from azure.identity import DefaultAzureCredential  # noqa: PLC0415 - provider side
    except ImportError as error:
        msg = "Azure calls at pulumi up need azure-identity: pip install 'mlops-infra[azure]'"
        raise RuntimeError(msg) from error
    return DefaultAzureCredential().get_token(ARM_SCOPE).token


def progress(line: str) -> None:
    """Prints a progress line the Pulumi engine shows (a dynamic provider has no logger)."""
    print(line, file=sys.stderr, flush=True)


class ArmClient:
    """JSON over HTTPS to ARM with a bearer token; GET of a missing resource is ``None``.

    Args:
        endpoint: ARM base URL (a contract fake's in tests).
        token: Returns a bearer token; default: :func:`default_token` (looked up per call,
            so tests may replace it).
        sleep: Waits between retries and polls.
    """

    def __init__(
        self,
        endpoint: str = ARM_ENDPOINT,
        token: Callable[[], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Creates the client."""
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._cached: str | None = None
        self.sleep = sleep

    def _bearer(self) -> str:
        if self._cached is None:
            self._cached = self._token() if self._token is not None else default_token()
        return self._cached

    def request(
        self, method: str, path: str, api_version: str, body: Json | None = None
    ) -> tuple[int, Json]:
        """Sends one request (retrying throttling and transient errors); returns status, JSON.

        Raises:
            ArmError: Azure refused the request (a GET of a missing resource is a 404 result).
        """
        url = f"{self.endpoint}{path}?api-version={api_version}"
        data = None if body is None else json.dumps(integral(body)).encode()
        for attempt in range(_ATTEMPTS):
            request = urllib.request.Request(  # noqa: S310 - https (or a local fake in tests)
                url,
                data=data,
                method=method,
                headers={
                    "Authorization": f"Bearer {self._bearer()}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                    text = answer.read().decode() or "{}"
                    return int(answer.status), typing.cast(Json, json.loads(text))
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace")
                if method == "GET" and error.code == 404:
                    return 404, {}
                if error.code in _RETRIED and attempt + 1 < _ATTEMPTS:
                    self.sleep(float(error.headers.get("Retry-After") or 2**attempt))
                    continue
                raise ArmError(method, url, error.code, text) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, api_version: str) -> Json | None:
        """The resource at ``path``, or ``None`` when it does not exist."""
        status, body = self.request("GET", path, api_version)
        return None if status == 404 else body

    def put(self, path: str, api_version: str, body: Json) -> Json:
        """Creates or replaces the resource at ``path``; returns Azure's answer."""
        return self.request("PUT", path, api_version, body)[1]

    def delete(self, path: str, api_version: str) -> None:
        """Deletes the resource at ``path``; a missing one is not an error."""
        try:
            self.request("DELETE", path, api_version)
        except ArmError as error:
            if error.status != 404:
                raise
