"""Google REST calls made by the dynamic providers at ``pulumi up`` (never during previews).

Uses Application Default Credentials through ``google-auth`` and ``requests``, both
imported on first call, so a program (and its tests) never needs them. Long-running
operations (``google.longrunning.Operation``) are polled with :func:`wait_operation`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

__all__ = ["RestError", "call", "progress", "wait_operation"]

_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_TIMEOUT_S = 60


class RestError(RuntimeError):
    """A Google API call failed.

    Attributes:
        status: HTTP status code.
    """

    def __init__(self, message: str, status: int) -> None:
        """Creates the error for a call that answered ``status``."""
        super().__init__(message)
        self.status = status


def call(
    method: str,
    url: str,
    body: Mapping[str, Any] | None = None,
    *,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Calls ``url`` with the ambient credentials; returns the JSON answer.

    Raises:
        RestError: the API answered with an error (the message includes its text).
    """
    import google.auth  # noqa: PLC0415 - provider side only
    from google.auth.transport.requests import AuthorizedSession  # noqa: PLC0415

    # google-auth is only partly typed: its session is handled as Any at this boundary.
    default = cast(Any, google.auth.default)  # pyright: ignore[reportUnknownMemberType]
    credentials, _ = default(scopes=_SCOPES)
    session: Any = AuthorizedSession(credentials)
    response: Any = session.request(
        method, url, json=body, params=dict(params or {}), timeout=_TIMEOUT_S
    )
    status = int(response.status_code)
    if status >= 400:
        msg = f"{method} {url} failed with {status}: {str(response.text)[:2000]}"
        raise RestError(msg, status)
    if not response.content:
        return {}
    answer: dict[str, Any] = response.json()
    return answer


def progress(message: str) -> None:
    """Prints a progress line of a dynamic provider (the engine shows its stderr)."""
    print(message, file=sys.stderr, flush=True)


def wait_operation(
    api_root: str,
    operation: Mapping[str, Any],
    *,
    what: str,
    timeout_s: float,
    poll_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Polls a long-running operation until it is done; returns its ``response``.

    See https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.operations/get
    (the same ``Operation`` shape for every API that returns one).

    Raises:
        RestError: the operation ended with an error, or ``timeout_s`` passed first.
    """
    deadline = time.monotonic() + timeout_s
    current = dict(operation)
    while not current.get("done"):
        if time.monotonic() > deadline:
            msg = f"{what}: operation {current.get('name')} not done after {timeout_s:.0f}s"
            raise RestError(msg, 504)
        progress(f"{what}: waiting for operation {current.get('name')}")
        sleep(poll_s)
        current = call("GET", f"{api_root}/{current['name']}")
    error = current.get("error")
    if error:
        msg = f"{what} failed: {error.get('message', error)} (code {error.get('code')})"
        raise RestError(msg, 409)
    response: dict[str, Any] = current.get("response") or {}
    return response
