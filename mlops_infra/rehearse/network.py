"""Loopback ports and readiness checks: everything rehearse serves binds 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request

__all__ = ["LOOPBACK", "free_port", "wait_http"]

LOOPBACK = "127.0.0.1"
"""The only address rehearse binds."""


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_http(
    url: str, *, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> int | None:
    """Polls ``url`` until it answers; returns the HTTP status, ``None`` if it never did.

    Stops early (``None``) when ``process`` exits.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return None
