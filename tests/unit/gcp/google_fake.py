"""A contract fake of Google's APIs on 127.0.0.1: OAuth token endpoint plus handlers per route.

What it enforces, as Google documents it:

* Service-account credentials sign a JWT assertion with their private key and exchange
  it at their ``token_uri`` (RFC 7523 ``jwt-bearer`` grant); an assertion carrying
  ``target_audience`` is answered with a Google-signed ID token for that audience,
  otherwise with an access token.
  https://developers.google.com/identity/protocols/oauth2/service-account#httprest
  https://cloud.google.com/run/docs/authenticating/service-to-service
* Every API call carries ``Authorization: Bearer <access token>`` from that exchange;
  anything else is answered 401 like Google's front end.

Routes are registered per test: ``fake.route("POST", r"/v1/.../executions", handler)``;
a handler gets a :class:`Call` and returns ``(status, json body)``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

__all__ = ["Call", "FakeGoogle", "fake_google", "new_key"]

SA_EMAIL = "deployer@acme-ml.iam.gserviceaccount.com"


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def new_key() -> str:
    """Returns a fresh RSA private key (PEM) that the fake knows nothing about."""
    return _key_pair()[0]


@dataclass
class Call:
    """One API request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    match: re.Match[str] | None = None


Handler = Callable[[Call], tuple[int, Any]]


@dataclass
class FakeGoogle:
    """The running fake: its root URL, keys, routes and the calls it answered."""

    root: str = ""
    sa_private: str = ""
    sa_public: str = ""
    google_private: str = ""
    google_public: str = ""
    access_tokens: set[str] = field(default_factory=set[str])
    calls: list[Call] = field(default_factory=list[Call])
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(
        default_factory=list[tuple[str, re.Pattern[str], Handler]]
    )
    id_token_requests: list[str] = field(default_factory=list[str])

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answers ``method`` on paths matching ``pattern`` (full match) with ``handler``."""
        self.routes.append((method, re.compile(pattern), handler))

    def api_calls(self, method: str | None = None, contains: str = "") -> list[Call]:
        """The authenticated API calls received (not the token exchanges)."""
        return [
            c for c in self.calls if (method is None or c.method == method) and contains in c.path
        ]

    def credentials_file(self, folder: Path) -> Path:
        """Writes a service-account key file whose ``token_uri`` is this fake."""
        path = folder / "deployer.json"
        info = {
            "type": "service_account",
            "project_id": "acme-ml",
            "private_key_id": "test-key-1",
            "private_key": self.sa_private,
            "client_email": SA_EMAIL,
            "client_id": "1234567890",
            "token_uri": f"{self.root}/token",
        }
        path.write_text(json.dumps(info), encoding="utf-8")
        return path

    def mint_id_token(self, audience: str, email: str = SA_EMAIL, lifetime_s: int = 3600) -> str:
        """Returns an ID token for ``audience`` signed with the fake Google key."""
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": audience,
            "sub": "1234567890",
            "email": email,
            "iat": now,
            "exp": now + lifetime_s,
        }
        signer = crypt.RSASigner.from_string(self.google_private, "google-1")
        return jwt.encode(signer, claims).decode()

    def verify_id_token(self, token: str, audience: str) -> dict[str, Any]:
        """Verifies signature, audience and expiry as Cloud Run does; raises ValueError."""
        claims: dict[str, Any] = jwt.decode(token, certs=self.google_public, audience=audience)
        return claims

    def _token(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims: dict[str, Any] = jwt.decode(
                form.get("assertion", ""),
                certs=self.sa_public,
                # google-auth always addresses Google's token endpoint in the assertion.
                audience=[f"{self.root}/token", "https://oauth2.googleapis.com/token"],
            )
        except ValueError as error:
            return 400, {"error": "invalid_grant", "error_description": str(error)}
        if claims.get("iss") != SA_EMAIL:
            return 400, {"error": "invalid_grant", "error_description": "unknown issuer"}
        if "target_audience" in claims:
            self.id_token_requests.append(str(claims["target_audience"]))
            return 200, {"id_token": self.mint_id_token(str(claims["target_audience"]))}
        token = f"ya29.fake-{uuid.uuid4().hex}"
        self.access_tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def handle(self, call: Call) -> tuple[int, Any]:
        """Answers one API call: 401 without a valid bearer token, 404 without a route."""
        auth = call.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.access_tokens:
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        self.calls.append(call)
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(call.path)
            if method == call.method and match:
                call.match = match
                return handler(call)
        return 404, {"error": {"code": 404, "message": f"no route {call.method} {call.path}"}}


def _server_for(fake: FakeGoogle) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if split.path == "/token":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                status, answer = fake._token(form)  # pyright: ignore[reportPrivateUsage]
            else:
                call = Call(
                    method=self.command,
                    path=split.path,
                    query={k: v[0] for k, v in parse_qs(split.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(raw) if raw else None,
                )
                status, answer = fake.handle(call)
            if status == 0:
                # A provider killed mid-call: the request was handled, no answer comes back.
                self.close_connection = True
                return
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's names

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@contextmanager
def fake_google() -> Iterator[FakeGoogle]:
    """Runs a :class:`FakeGoogle` for the duration of the block."""
    sa_private, sa_public = _key_pair()
    google_private, google_public = _key_pair()
    fake = FakeGoogle(
        sa_private=sa_private,
        sa_public=sa_public,
        google_private=google_private,
        google_public=google_public,
    )
    server = _server_for(fake)
    fake.root = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
