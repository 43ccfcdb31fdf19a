"""The serving deployment against a contract fake of the Cloud Run Admin API v2.

The fake follows the documented request shapes and answers:
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/create
(``POST .../services?serviceId=``, body a ``Service``, answer an ``Operation``),
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/patch,
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/get
(``latestReadyRevision``, ``uri``),
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/delete,
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.operations/get.
A revision whose image is missing fails its operation and Cloud Run keeps the previous
ready revision (https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google_fake import Call, FakeGoogle, fake_google, new_key
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from mlops_infra.backends.gcp import _deployment
from mlops_infra.backends.gcp._api import RestError
from mlops_infra.backends.gcp._deployment import _DeploymentProvider  # pyright: ignore[reportPrivateUsage]

PARENT = "projects/acme-ml/locations/europe-west4"
NAME = f"{PARENT}/services/svc"
MISSING_IMAGE = "europe-west4-docker.pkg.dev/acme-ml/mlops/missing:1"


class FakeCloudRun:
    """Services and operations of one region, as Cloud Run keeps them."""

    def __init__(self, fake: FakeGoogle) -> None:
        self.services: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        fake.route("GET", r"/v2/(projects/[^/]+/locations/[^/]+/services/[^/]+)", self.get)
        fake.route("POST", r"/v2/(projects/[^/]+/locations/[^/]+)/services", self.create)
        fake.route("PATCH", r"/v2/(projects/[^/]+/locations/[^/]+/services/[^/]+)", self.patch)
        fake.route("DELETE", r"/v2/(projects/[^/]+/locations/[^/]+/services/[^/]+)", self.delete)
        fake.route("GET", r"/v2/(projects/[^/]+/locations/[^/]+/operations/[^/]+)", self.operation)

    def _start(self, name: str, error: str | None) -> tuple[int, Any]:
        op = f"{PARENT}/operations/op-{len(self.operations) + 1}"
        done: dict[str, Any] = {"name": op, "done": True}
        if error:
            done["error"] = {"code": 9, "message": error}
        else:
            done["response"] = {"name": name}
        self.operations[op] = done
        # First answer: not done yet (the client must poll).
        return 200, {"name": op, "done": False}

    def _deploy(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        template = body["template"]
        revision = template["revision"]
        assert revision.startswith(name.rsplit("/", 1)[-1] + "-"), revision
        assert template["containers"][0]["image"]
        assert body["traffic"], "traffic is always sent"
        assert sum(t["percent"] for t in body["traffic"]) == 100
        service = self.services.setdefault(name, {"name": name, "revisions": {}})
        if revision in service["revisions"] and service["revisions"][revision] != template:
            return 409, {"error": {"code": 409, "message": f"Revision {revision} already exists"}}
        service["revisions"][revision] = copy.deepcopy(template)
        service["body"] = body
        if template["containers"][0]["image"] == MISSING_IMAGE:
            return self._start(name, f"Image '{MISSING_IMAGE}' not found.")
        service["latestReadyRevision"] = f"{name}/revisions/{revision}"
        service["uri"] = "https://svc-424242.europe-west4.run.app"
        return self._start(name, None)

    def get(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        found = self.services.get(call.match[1])
        if found is None:
            return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
        return 200, {k: v for k, v in found.items() if k != "revisions"}

    def create(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        name = f"{call.match[1]}/services/{call.query['serviceId']}"
        if name in self.services:
            return 409, {"error": {"code": 409, "status": "ALREADY_EXISTS"}}
        return self._deploy(name, call.body)

    def patch(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        if call.match[1] not in self.services:
            return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
        return self._deploy(call.match[1], call.body)

    def delete(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        if self.services.pop(call.match[1], None) is None:
            return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
        return self._start(call.match[1], None)

    def operation(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        return 200, self.operations[call.match[1]]


@pytest.fixture
def cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeGoogle, FakeCloudRun]]:
    with fake_google() as fake:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.credentials_file(tmp_path)))
        monkeypatch.setattr(_deployment, "API", f"{fake.root}/v2")
        monkeypatch.setattr(_deployment, "_POLL_S", 0.0)
        yield fake, FakeCloudRun(fake)


def _outs(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return dict(result.outs)


def _props(version: str | None, image: str = "img:1", **extra: Any) -> dict[str, Any]:
    body = {
        "ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY",
        "labels": {"team": "ml"},
        "template": {
            "labels": {"team": "ml"},
            "containers": [
                {"image": image, "env": [{"name": "MLOPS_MODEL_VERSION", "value": version}]}
            ],
        },
    }
    return {
        "project": "acme-ml",
        "region": "europe-west4",
        "service": "svc",
        "template": body,
        "version": version,
        "canary_percent": None,
        **extra,
    }


def test_nothing_passed_calls_no_api_and_serves_nothing(
    cloud: tuple[FakeGoogle, FakeCloudRun],
) -> None:
    fake, run = cloud
    result = _DeploymentProvider().create(_props(None))
    assert result.id == NAME
    assert _outs(result)["deployed_version"] is None
    assert _outs(result)["uri"] is None
    assert fake.api_calls() == []
    assert run.services == {}


def test_first_version_creates_the_service_and_confirms_the_revision(
    cloud: tuple[FakeGoogle, FakeCloudRun],
) -> None:
    fake, run = cloud
    outs = _outs(_DeploymentProvider().create(_props("1")))
    assert (outs["deployed_version"], outs["revision"], outs["serial"]) == ("1", "svc-00001", 1)
    assert outs["uri"] == "https://svc-424242.europe-west4.run.app"
    [create] = fake.api_calls("POST")
    assert create.path == f"/v2/{PARENT}/services"
    assert create.query == {"serviceId": "svc"}
    assert create.headers["authorization"].startswith("Bearer ya29.")
    assert create.body["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}
    ]
    # The operation was polled until done, then the service read back.
    assert fake.api_calls("GET", "/operations/")
    assert run.services[NAME]["latestReadyRevision"].endswith("/revisions/svc-00001")


def test_a_new_version_gets_a_revision_and_a_canary_split(
    cloud: tuple[FakeGoogle, FakeCloudRun],
) -> None:
    fake, _ = cloud
    provider = _DeploymentProvider()
    first = _outs(provider.create(_props("1")))
    news = _props("2", canary_percent=10)
    assert provider.diff(NAME, first, news).changes
    outs = _outs(provider.update(NAME, first, news))
    assert (outs["deployed_version"], outs["revision"], outs["stable_revision"]) == (
        "2",
        "svc-00002",
        "svc-00001",
    )
    [patch] = fake.api_calls("PATCH")
    assert patch.path == f"/v2/{NAME}"
    assert patch.body["template"]["revision"] == "svc-00002"
    assert patch.body["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "svc-00002", "percent": 10},
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "svc-00001", "percent": 90},
    ]


def test_any_template_change_takes_a_new_revision_name(
    cloud: tuple[FakeGoogle, FakeCloudRun],
) -> None:
    # Issue 14 item 4: labels (stack tags) are part of the template; reusing the name
    # with a changed template is answered 409 by Cloud Run.
    _, _ = cloud
    provider = _DeploymentProvider()
    first = _outs(provider.create(_props("1")))
    relabelled = _props("1")
    relabelled["template"]["template"]["labels"] = {"team": "ml", "cost-center": "42"}
    outs = _outs(provider.update(NAME, first, relabelled))
    assert outs["revision"] == "svc-00002"
    assert outs["deployed_version"] == "1"


def test_a_revision_that_fails_to_start_fails_up_and_keeps_the_old_one(
    cloud: tuple[FakeGoogle, FakeCloudRun],
) -> None:
    _, run = cloud
    provider = _DeploymentProvider()
    first = _outs(provider.create(_props("1")))
    with pytest.raises(RestError, match="not found"):
        provider.update(NAME, first, _props("2", image=MISSING_IMAGE))
    assert run.services[NAME]["latestReadyRevision"].endswith("/revisions/svc-00001")


def test_read_sees_a_service_deleted_outside_pulumi_and_delete_removes_it(
    cloud: tuple[FakeGoogle, FakeCloudRun],
) -> None:
    fake, run = cloud
    provider = _DeploymentProvider()
    outs = _outs(provider.create(_props("1")))
    assert _outs(provider.read(NAME, outs))["deployed_version"] == "1"
    provider.delete(NAME, outs)
    assert run.services == {}
    assert [c.path for c in fake.api_calls("DELETE")] == [f"/v2/{NAME}"]
    assert _outs(provider.read(NAME, outs))["deployed_version"] is None
    # Deleting again (already gone) is not an error.
    provider.delete(NAME, outs)


def test_requests_without_a_valid_token_are_refused(
    cloud: tuple[FakeGoogle, FakeCloudRun], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake, _ = cloud
    other = tmp_path / "other"
    other.mkdir()
    path = fake.credentials_file(other)
    # A key the token endpoint does not know: no access token, nothing deployed.
    text = path.read_text(encoding="utf-8").replace("test-key-1", "test-key-2")
    info = json.loads(text)
    info["private_key"] = new_key()
    path.write_text(json.dumps(info), encoding="utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    with pytest.raises(Exception, match="invalid_grant"):
        _DeploymentProvider().create(_props("1"))
