"""``<pipeline>-run`` against a contract fake of the Workflow Executions API v1.

The fake follows the documented requests and answers:
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create
(``POST {parent}/executions``, body an ``Execution`` with ``argument`` a JSON string and
``labels``; answer the ``Execution`` with ``name`` and ``state``),
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/list
(``GET {parent}/executions?filter=``; newest first; ``label`` is a filterable field),
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/get,
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/cancel.
The model registry is a real MLflow registry (SQLite).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google_fake import Call, FakeGoogle, fake_google
from pulumi.dynamic import CreateResult, ReadResult

from mlops_infra.backends.gcp import _run
from mlops_infra.backends.gcp._run import _RunProvider  # pyright: ignore[reportPrivateUsage]
from mlops_infra.backends.gcp.container_entry import EXECUTION_TAG

# MLflow's SQLite store uses a loader strategy SQLAlchemy 2.1 deprecates (MLflow's to fix).
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

WORKFLOW = "projects/acme-ml/locations/europe-west4/workflows/mlops-pipeline-diagnosis"
_FILTER = re.compile(r'^labels\.(?P<key>[a-z0-9_-]+)="(?P<value>[a-z0-9_-]*)"$')


class FakeWorkflows:
    """Executions of one workflow; each GET advances an active one (``finish_after`` polls)."""

    def __init__(self, fake: FakeGoogle, finish_after: int = 2, outcome: str = "SUCCEEDED") -> None:
        self.executions: list[dict[str, Any]] = []
        self.polls: dict[str, int] = {}
        self.finish_after = finish_after
        self.outcome = outcome
        self.die_on_create = False
        fake.route("POST", rf"/v1/{WORKFLOW}/executions", self.create)
        fake.route("GET", rf"/v1/{WORKFLOW}/executions", self.list)
        fake.route("GET", rf"/v1/({WORKFLOW}/executions/[^/:]+)", self.get)
        fake.route("POST", rf"/v1/({WORKFLOW}/executions/[^/:]+):cancel", self.cancel)

    def create(self, call: Call) -> tuple[int, Any]:
        body = call.body
        assert set(body) <= {"argument", "labels", "callLogLevel"}, body
        json.loads(body["argument"])  # a JSON-encoded string, as documented
        for key, value in body.get("labels", {}).items():
            assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key), key
            assert re.fullmatch(r"[a-z0-9_-]{0,63}", value), value
        name = f"{WORKFLOW}/executions/exec-{len(self.executions) + 1}"
        execution = {
            "name": name,
            "state": "ACTIVE",
            "argument": body["argument"],
            "labels": body.get("labels", {}),
        }
        self.executions.insert(0, execution)  # newest first
        if self.die_on_create:
            return 0, None  # the provider is killed before the answer arrives
        return 200, execution

    def list(self, call: Call) -> tuple[int, Any]:
        found = self.executions
        if "filter" in call.query:
            match = _FILTER.fullmatch(call.query["filter"])
            assert match, call.query["filter"]
            found = [e for e in found if e["labels"].get(match["key"]) == match["value"]]
        return 200, {"executions": found} if found else {}

    def get(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        for execution in self.executions:
            if execution["name"] == call.match[1]:
                polls = self.polls[execution["name"]] = self.polls.get(execution["name"], 0) + 1
                if execution["state"] == "ACTIVE" and polls >= self.finish_after:
                    execution["state"] = self.outcome
                    if self.outcome == "FAILED":
                        execution["error"] = {"payload": "step train failed", "context": "x"}
                return 200, execution
        return 404, {"error": {"code": 404}}

    def cancel(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        for execution in self.executions:
            if execution["name"] == call.match[1]:
                execution["state"] = "CANCELLED"
                return 200, execution
        return 404, {"error": {"code": 404}}

    def started(self) -> int:
        return len(self.executions)


@pytest.fixture
def cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeGoogle, FakeWorkflows]]:
    with fake_google() as fake:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.credentials_file(tmp_path)))
        monkeypatch.setattr(_run, "API", f"{fake.root}/v1")
        monkeypatch.setattr(_run, "_POLL_S", 0.0)
        yield fake, FakeWorkflows(fake)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local MLflow registry with version 1 from an old run and 2 from ``exec-1``."""
    from mlflow import MlflowClient

    url = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    client: Any = MlflowClient(tracking_uri=url, registry_uri=url)
    client.create_registered_model("diagnosis")
    client.create_model_version("diagnosis", "gs://b/m1", tags={EXECUTION_TAG: "old"})
    client.create_model_version("diagnosis", "gs://b/m2", tags={EXECUTION_TAG: "exec-1"})
    return url


def _props(version: str, *, wait: bool, tracking_url: str = "http://unused") -> dict[str, Any]:
    return {
        "workflow": WORKFLOW,
        "version": version,
        "wait": wait,
        "timeout_s": 60,
        "tracking_url": tracking_url,
        "model": "diagnosis",
    }


def _outs(result: CreateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return dict(result.outs)


def test_first_up_starts_one_labelled_execution(cloud: tuple[FakeGoogle, FakeWorkflows]) -> None:
    fake, workflows = cloud
    result = _RunProvider().create(_props("0123abcd", wait=False))
    assert result.id == f"{WORKFLOW}/executions/exec-1"
    assert _outs(result)["state"] == "ACTIVE"
    assert _outs(result)["model_version"] is None
    [create] = fake.api_calls("POST")
    assert create.body == {"argument": "{}", "labels": {"mlops-version": "0123abcd"}}
    assert create.headers["authorization"].startswith("Bearer ya29.")
    assert workflows.started() == 1


def test_same_version_is_no_change_and_a_new_version_replaces(
    cloud: tuple[FakeGoogle, FakeWorkflows],
) -> None:
    _, workflows = cloud
    provider = _RunProvider()
    outs = _outs(provider.create(_props("v1", wait=False)))
    assert not provider.diff("x", outs, _props("v1", wait=False)).changes
    # Waiting or not is a setting: it never starts a second run of the same version.
    toggled = provider.diff("x", outs, _props("v1", wait=True))
    assert not toggled.changes
    new = provider.diff("x", outs, _props("v2", wait=False))
    assert (new.changes, new.replaces) == (True, ["version"])
    provider.create(_props("v2", wait=False))
    assert workflows.started() == 2


def test_waiting_returns_the_model_version_the_execution_registered(
    cloud: tuple[FakeGoogle, FakeWorkflows], registry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, workflows = cloud
    outs = _outs(_RunProvider().create(_props("v1", wait=True, tracking_url=registry)))
    assert (outs["state"], outs["model_version"]) == ("SUCCEEDED", "2")
    assert workflows.polls[f"{WORKFLOW}/executions/exec-1"] == 2
    # Progress lines go to stderr, which the engine shows during `up`.
    assert "ACTIVE for" in capsys.readouterr().err


def test_a_failed_run_is_recorded_without_failing_up(
    cloud: tuple[FakeGoogle, FakeWorkflows], registry: str
) -> None:
    _, workflows = cloud
    workflows.outcome = "FAILED"
    outs = _outs(_RunProvider().create(_props("v1", wait=True, tracking_url=registry)))
    assert (outs["state"], outs["error"], outs["model_version"]) == (
        "FAILED",
        "step train failed",
        None,
    )


def test_a_run_past_its_timeout_fails_up_and_the_next_up_adopts_it(
    cloud: tuple[FakeGoogle, FakeWorkflows], registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, workflows = cloud
    workflows.finish_after = 10**6
    props = {**_props("v1", wait=True, tracking_url=registry), "timeout_s": 0}
    with pytest.raises(TimeoutError, match="exec-1 still ACTIVE after 0s"):
        _RunProvider().create(props)
    workflows.finish_after = 1
    outs = _outs(_RunProvider().create(_props("v1", wait=True, tracking_url=registry)))
    assert (outs["execution_name"], outs["model_version"]) == (
        f"{WORKFLOW}/executions/exec-1",
        "2",
    )
    assert workflows.started() == 1


def test_killed_after_create_then_up_again_adopts_the_execution(
    cloud: tuple[FakeGoogle, FakeWorkflows],
) -> None:
    # Issue 11 scope 7: the execution was created, the provider died before the answer
    # (so Pulumi recorded nothing); the next `up` creates the resource again.
    _, workflows = cloud
    workflows.die_on_create = True
    with pytest.raises(Exception, match=r"Connection aborted|RemoteDisconnected"):
        _RunProvider().create(_props("v1", wait=False))
    workflows.die_on_create = False
    assert workflows.started() == 1
    result = _RunProvider().create(_props("v1", wait=False))
    assert result.id == f"{WORKFLOW}/executions/exec-1"
    assert workflows.started() == 1


def test_schedule_runs_are_not_adopted(cloud: tuple[FakeGoogle, FakeWorkflows]) -> None:
    _, workflows = cloud
    # A scheduled execution (no label) of the same workflow is already running.
    workflows.executions.append(
        {"name": f"{WORKFLOW}/executions/sched-1", "state": "ACTIVE", "labels": {}}
    )
    result = _RunProvider().create(_props("v1", wait=False))
    assert result.id == f"{WORKFLOW}/executions/exec-2"


def test_read_reports_the_state_and_delete_cancels_an_active_run(
    cloud: tuple[FakeGoogle, FakeWorkflows],
) -> None:
    fake, workflows = cloud
    provider = _RunProvider()
    result = provider.create(_props("v1", wait=False))
    assert result.id is not None
    workflows.finish_after = 10**6
    assert _outs(provider.read(result.id, _outs(result)))["state"] == "ACTIVE"
    provider.delete(result.id, _outs(result))
    assert [c.path for c in fake.api_calls("POST", ":cancel")] == [f"/v1/{result.id}:cancel"]
    assert _outs(provider.read(result.id, _outs(result)))["state"] == "CANCELLED"
