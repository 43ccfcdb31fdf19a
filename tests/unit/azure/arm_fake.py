"""An HTTP-level contract fake of the Azure Resource Manager calls the Azure backend makes.

It listens on 127.0.0.1 and answers like ARM and the Azure ML REST API, checking what the
documentation requires of every request:

* a Microsoft Entra ID bearer token (``Authorization: Bearer ...``), else 401
  ``AuthenticationFailed`` — https://learn.microsoft.com/en-us/rest/api/azure/#create-the-request
* the ``api-version`` query parameter, else 400 ``MissingApiVersionParameter``;
* jobs: ``PUT .../workspaces/{ws}/jobs/{id}`` with ``properties.jobType``; a job name is
  taken for good (Azure ML refuses to submit a second job under it: 409) —
  https://learn.microsoft.com/en-us/rest/api/azureml/jobs/create-or-update ,
  https://learn.microsoft.com/en-us/rest/api/azureml/jobs/get ;
* online deployments: ``PUT .../onlineEndpoints/{ep}/deployments/{name}`` with
  ``location``, ``sku`` and ``properties.endpointComputeType``/``model``; provisioning goes
  ``Creating`` → ``Succeeded`` (or ``Failed`` for a model listed in ``failing_models``) —
  https://learn.microsoft.com/en-us/rest/api/azureml/online-deployments/create-or-update ;
* online endpoints: ``GET``/``PUT .../onlineEndpoints/{ep}``; traffic may only name
  existing deployments (Azure answers 400 otherwise) —
  https://learn.microsoft.com/en-us/rest/api/azureml/online-endpoints/create-or-update ;
* autoscale settings: ``PUT``/``DELETE`` ``Microsoft.Insights/autoscalesettings/{name}``
  (api-version 2022-10-01) with ``properties.targetResourceUri`` and ``profiles`` —
  https://learn.microsoft.com/en-us/rest/api/monitor/autoscale-settings/create-or-update ;
* workspaces: ``GET``/``PATCH .../workspaces/{ws}`` at api-version 2024-10-01-preview (the
  contract declaring ``networkAcls``); the update is accepted (202, ``Updating``, then
  ``Succeeded``); ``networkAcls.ipRules`` take public IPv4 addresses or ranges only, and
  turning public access off resets them —
  https://learn.microsoft.com/en-us/rest/api/azureml/workspaces/update ,
  https://learn.microsoft.com/en-us/azure/machine-learning/how-to-configure-private-link#enable-public-access-only-from-internet-ip-ranges .
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "fake-entra-token"
API_VERSION = "2025-12-01"
_WS = (
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/[^/]+"
)
JOB = re.compile(_WS + r"/jobs/([A-Za-z0-9_-]+)$")
ENDPOINT = re.compile(_WS + r"/onlineEndpoints/([A-Za-z0-9-]+)$")
DEPLOYMENT = re.compile(_WS + r"/onlineEndpoints/([A-Za-z0-9-]+)/deployments/([A-Za-z0-9-]+)$")
AUTOSCALE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.Insights/autoscalesettings/([A-Za-z0-9-]+)$"
)
AUTOSCALE_API_VERSION = "2022-10-01"
WORKSPACE = re.compile(_WS + r"$")
WORKSPACE_API_VERSION = "2024-10-01-preview"


@dataclass
class ArmState:
    """What the fake holds and saw."""

    requests: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    job_statuses: list[str] = field(default_factory=lambda: ["Running", "Completed"])
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    failing_models: set[str] = field(default_factory=set[str])
    refused: list[str] = field(default_factory=list[str])
    autoscale: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])

    def count(self, method: str, pattern: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and pattern in p)


class _Handler(BaseHTTPRequestHandler):
    state: ArmState

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self.state.refused.append(f"{status} {code}")
        self._answer(status, {"error": {"code": code, "message": message}})

    def _checked(self) -> str | None:
        url = urlparse(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._error(401, "AuthenticationFailed", "no valid Entra ID bearer token")
            return None
        expected = (
            AUTOSCALE_API_VERSION
            if AUTOSCALE.match(url.path)
            else WORKSPACE_API_VERSION
            if WORKSPACE.match(url.path)
            else API_VERSION
        )
        if parse_qs(url.query).get("api-version") != [expected]:
            self._error(400, "MissingApiVersionParameter", "api-version is required")
            return None
        self.state.requests.append((self.command, url.path))
        return url.path

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        path = self._checked()
        if path is None:
            return
        if WORKSPACE.match(path):
            workspace = self.state.workspaces.get(path)
            if workspace is None:
                self._error(404, "ResourceNotFound", "workspace not found")
                return
            if workspace["properties"].get("provisioningState") == "Updating":
                workspace["properties"]["provisioningState"] = "Succeeded"
            self._answer(200, workspace)
        elif match := JOB.match(path):
            job = self.state.jobs.get(match[1])
            if job is None:
                self._error(404, "UserError", "job not found")
                return
            if self.state.job_statuses:
                job["properties"]["status"] = self.state.job_statuses.pop(0)
            self._answer(200, job)
        elif match := DEPLOYMENT.match(path):
            deployment = self.state.deployments.get(f"{match[1]}/{match[2]}")
            if deployment is None:
                self._error(404, "ResourceNotFound", "deployment not found")
                return
            props = deployment["properties"]
            if props["provisioningState"] == "Creating":
                failed = props.get("model") in self.state.failing_models
                props["provisioningState"] = "Failed" if failed else "Succeeded"
            self._answer(200, deployment)
        elif match := ENDPOINT.match(path):
            endpoint = self.state.endpoints.get(match[1])
            if endpoint is None:
                self._error(404, "ResourceNotFound", "endpoint not found")
                return
            self._answer(200, endpoint)
        else:
            self._error(404, "NotFound", path)

    def do_PUT(self) -> None:
        path = self._checked()
        if path is None:
            return
        body = self._body()
        if match := AUTOSCALE.match(path):
            props = body.get("properties", {})
            if not props.get("targetResourceUri") or not props.get("profiles"):
                self._error(400, "BadRequest", "targetResourceUri and profiles are required")
                return
            self.state.autoscale[match[1]] = body
            self._answer(200, body)
        elif match := JOB.match(path):
            if match[1] in self.state.jobs:
                self._error(409, "UserError", f"a job named {match[1]} already exists")
                return
            if not body.get("properties", {}).get("jobType"):
                self._error(400, "UserError", "properties.jobType is required")
                return
            body["name"] = match[1]
            body["properties"]["status"] = "NotStarted"
            body["properties"]["services"] = {
                "Studio": {"endpoint": f"https://ml.azure.com/runs/{match[1]}"}
            }
            self.state.jobs[match[1]] = body
            self._answer(201, body)
        elif match := DEPLOYMENT.match(path):
            props = body.get("properties", {})
            missing = [
                k for k in ("endpointComputeType", "model", "instanceType") if not props.get(k)
            ]
            if missing or "location" not in body or "sku" not in body:
                self._error(400, "BadRequest", f"missing {missing or 'location/sku'}")
                return
            if match[1] not in self.state.endpoints:
                self._error(404, "ResourceNotFound", "endpoint not found")
                return
            body["properties"]["provisioningState"] = "Creating"
            self.state.deployments[f"{match[1]}/{match[2]}"] = body
            self._answer(201, body)
        elif match := ENDPOINT.match(path):
            traffic = body.get("properties", {}).get("traffic") or {}
            unknown = [d for d in traffic if f"{match[1]}/{d}" not in self.state.deployments]
            if unknown:
                self._error(400, "BadRequest", f"traffic names unknown deployments {unknown}")
                return
            if sum(traffic.values()) not in (0, 100):
                self._error(400, "BadRequest", "traffic must sum to 100")
                return
            self.state.endpoints[match[1]] = body
            self._answer(200, body)
        else:
            self._error(404, "NotFound", path)

    def do_PATCH(self) -> None:
        path = self._checked()
        if path is None:
            return
        if not WORKSPACE.match(path):
            self._error(404, "NotFound", path)
            return
        workspace = self.state.workspaces.get(path)
        if workspace is None:
            self._error(404, "ResourceNotFound", "workspace not found")
            return
        update = self._body().get("properties", {})
        acls = update.get("networkAcls")
        if acls is not None:
            if acls.get("defaultAction") not in ("Allow", "Deny"):
                self._error(400, "BadRequest", "networkAcls.defaultAction: Allow or Deny")
                return
            for rule in acls.get("ipRules") or []:
                try:
                    network = ipaddress.ip_network(str(rule.get("value")))
                except ValueError:
                    network = None
                if not isinstance(network, ipaddress.IPv4Network) or not network.is_global:
                    self._error(400, "BadRequest", f"ipRules: {rule} is no public IPv4 range")
                    return
        props = workspace["properties"]
        props.update(update)
        if props.get("publicNetworkAccess") == "Disabled":
            props["networkAcls"] = {"defaultAction": "Deny", "ipRules": []}
        props["provisioningState"] = "Updating"
        self._answer(202, workspace)

    def do_DELETE(self) -> None:
        path = self._checked()
        if path is None:
            return
        if match := AUTOSCALE.match(path):
            self.state.autoscale.pop(match[1], None)
            self._answer(200)
        elif match := DEPLOYMENT.match(path):
            key = f"{match[1]}/{match[2]}"
            traffic = self.state.endpoints.get(match[1], {}).get("properties", {}).get("traffic")
            if (traffic or {}).get(match[2]):
                self._error(400, "BadRequest", "a deployment with traffic cannot be deleted")
                return
            if self.state.deployments.pop(key, None) is None:
                self._error(404, "ResourceNotFound", "deployment not found")
                return
            self._answer(202)
        else:
            self._error(404, "NotFound", path)


@contextmanager
def arm_fake(state: ArmState | None = None) -> Iterator[tuple[str, ArmState]]:
    """Runs the fake; yields its base URL and state."""
    held = state or ArmState()
    handler = type("Handler", (_Handler,), {"state": held})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", held
    finally:
        server.shutdown()
        server.server_close()
