"""A recording proxy in front of the rehearsal's MLflow server: which caller made which call.

Each caller (a step, the gate) gets its own tracking URL, ``http://127.0.0.1:<port>/<caller>``;
the proxy strips the caller from the path, forwards the request unchanged to the MLflow
server and records the call's RPC name (:func:`mlops_infra.mlflow_rest.call_name`). What
each caller called is then checked against what its cloud identity is granted.

A cloud whose tracking server lacks part of MLflow's API passes ``unsupported``: the proxy
answers those requests itself, as that server does, and never forwards them.
"""

from __future__ import annotations

import http.client
import threading
from collections import defaultdict
from collections.abc import Callable, Generator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

from mlops_infra.mlflow_rest import call_name
from mlops_infra.rehearse.network import LOOPBACK

__all__ = ["CallRecorder", "Unsupported", "recording_proxy"]

Unsupported = Callable[[str, str], int | None]
"""``(method, path) -> status``: the status a cloud's tracking server answers a request it
does not implement with (the proxy sends it with an empty body), or ``None`` to forward."""

# Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy recomputes.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class CallRecorder:
    """The calls recorded so far, per caller.

    Attributes:
        base_url: The proxy's ``http://127.0.0.1:<port>``.
    """

    def __init__(self, base_url: str) -> None:
        """Starts with nothing recorded."""
        self.base_url = base_url
        self._calls: dict[str, set[str]] = defaultdict(set)
        self._lock = threading.Lock()

    def url(self, caller: str) -> str:
        """The tracking URL ``caller`` uses, so its calls are recorded under its name."""
        return f"{self.base_url}/{quote(caller, safe='')}"

    def record(self, caller: str, call: str) -> None:
        """Records one call (an RPC name, or ``"METHOD path"`` for an unknown route)."""
        with self._lock:
            self._calls[caller].add(call)

    def calls(self, caller: str) -> frozenset[str]:
        """What ``caller`` called."""
        with self._lock:
            return frozenset(self._calls.get(caller, set()))


@contextmanager
def recording_proxy(
    upstream: str, *, unsupported: Unsupported | None = None
) -> Generator[CallRecorder]:
    """Runs the proxy in front of the MLflow server at ``upstream``; stops it on exit.

    Requests ``unsupported`` gives a status for are recorded and answered with it.
    """
    target = urlsplit(upstream)
    host, port = target.hostname or LOOPBACK, target.port or 80

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            _, _, rest = self.path.partition("/")
            quoted_caller, _, remainder = rest.partition("/")
            caller, path = unquote(quoted_caller), "/" + remainder
            recorder.record(caller, call_name(self.command, path) or f"{self.command} {path}")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            refused = unsupported(self.command, path) if unsupported is not None else None
            if refused is not None:
                self.send_response(refused)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
            connection = http.client.HTTPConnection(host, port, timeout=600)
            try:
                connection.request(self.command, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            finally:
                connection.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _NOT_FORWARDED:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # the MLflow server logs every request already

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    recorder = CallRecorder(f"http://{LOOPBACK}:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, name="mlflow-recorder", daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
