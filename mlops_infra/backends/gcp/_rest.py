"""Google REST calls made by the dynamic providers at ``pulumi up`` (never during previews).

Uses Application Default Credentials through ``google-auth`` and ``requests``, both
imported on first call, so a program (and its tests) never needs them.
"""

from __future__ import annotations

from typing import Any, cast

__all__ = ["RestError", "call"]

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


def call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
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
    response: Any = session.request(method, url, json=body, timeout=_TIMEOUT_S)
    status = int(response.status_code)
    if status >= 400:
        msg = f"{method} {url} failed with {status}: {str(response.text)[:2000]}"
        raise RestError(msg, status)
    if not response.content:
        return {}
    answer: dict[str, Any] = response.json()
    return answer
