"""``<pipeline>-run`` against the ARM contract fake: one job per version, waited or not.

The fake (``arm_fake.py``) follows https://learn.microsoft.com/en-us/rest/api/azureml/jobs/create-or-update
and https://learn.microsoft.com/en-us/rest/api/azureml/jobs/get ; it refuses requests
without an Entra ID bearer token or ``api-version``.
"""

from __future__ import annotations

from typing import Any

import pytest
from arm_fake import TOKEN, ArmState, arm_fake
from azure_mocks import WORKSPACE_ID, azure_run

from mlops_infra.backends.azure import _api, pipeline_run
from mlops_infra.backends.azure._api import ArmError
from mlops_infra.backends.azure.pipeline_run import _RunProvider

JOB_NAME = "diagnosis-0123456789ab"
JOB_PATH = f"{WORKSPACE_ID}/jobs/{JOB_NAME}"
BODY = {
    "properties": {
        "jobType": "Pipeline",
        "displayName": JOB_NAME,
        "experimentName": "diagnosis",
        "jobs": {"train": {"type": "command", "componentId": "c"}},
        "settings": {"continue_on_step_failure": False},
        "tags": {"mlops-version": "0123456789abcdef"},
    }
}


@pytest.fixture(autouse=True)
def entra_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "default_token", lambda: TOKEN)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    calls: list[tuple[str, str, str]] = []

    def version(tracking_url: str, model: str, run_id: str) -> str:
        calls.append((tracking_url, model, run_id))
        return "7"

    monkeypatch.setattr(pipeline_run, "registered_version", version)
    return calls


def props(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "job_path": JOB_PATH,
        "job_name": JOB_NAME,
        "version": "0123456789abcdef",
        "job": BODY,
        "model_name": "diagnosis",
        "tracking_url": "azureml://westeurope.api.azureml.ms/mlflow/v1.0/x",
        "wait": False,
        "timeout_s": 60,
        "poll_s": 0,
        "arm_endpoint": url,
        **changes,
    }


def test_first_up_submits_one_job_with_the_documented_request() -> None:
    with arm_fake() as (url, state):
        result = _RunProvider().create(props(url))
    assert result.id == JOB_NAME
    assert state.requests == [("GET", JOB_PATH), ("PUT", JOB_PATH)]
    assert state.jobs[JOB_NAME]["properties"]["jobType"] == "Pipeline"
    assert result.outs["status"] == "NotStarted"
    assert result.outs["model_version"] is None
    assert result.outs["studio_url"] == f"https://ml.azure.com/runs/{JOB_NAME}"


def test_requests_without_an_entra_token_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "default_token", lambda: "not-a-token")
    with arm_fake() as (url, state), pytest.raises(ArmError, match="HTTP 401 AuthenticationFailed"):
        _RunProvider().create(props(url))
    assert state.refused == ["401 AuthenticationFailed"]
    assert not state.jobs


def test_same_version_starts_no_second_run_and_a_new_version_replaces() -> None:
    provider = _RunProvider()
    with arm_fake() as (url, state):
        olds = provider.create(props(url)).outs
        same = provider.diff(JOB_NAME, olds, props(url))
        newer = provider.diff(JOB_NAME, olds, props(url, version="fedcba9876543210"))
    assert state.count("PUT") == 1
    assert not same.changes
    assert newer.changes
    assert newer.replaces == ["version"]
    assert newer.delete_before_replace is False


def test_waiting_polls_with_progress_and_returns_the_registered_version(
    registered: list[tuple[str, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    state = ArmState(job_statuses=["Queued", "Running", "Running", "Completed"])
    with arm_fake(state) as (url, _):
        outs = _RunProvider().create(props(url, wait=True)).outs
    assert outs["status"] == "Completed"
    assert outs["model_version"] == "7"
    assert registered == [(props(url)["tracking_url"], "diagnosis", JOB_NAME)]
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"submitting Azure ML pipeline job {JOB_NAME} (version 0123456789abcdef)"
    assert f"{JOB_NAME}: Running" in lines
    assert f"{JOB_NAME}: registered diagnosis version 7" in lines


def test_a_failed_run_fails_up_and_says_how_to_run_again() -> None:
    state = ArmState(job_statuses=["Running", "Failed"])
    with arm_fake(state) as (url, _), pytest.raises(RuntimeError, match="ended Failed"):
        _RunProvider().create(props(url, wait=True))


def test_waiting_times_out_with_the_field_to_raise() -> None:
    ticks = iter(range(0, 1000, 40))
    provider = _RunProvider()
    provider.clock = lambda: float(next(ticks))
    state = ArmState(job_statuses=["Running"] * 10)
    with (
        arm_fake(state) as (url, _),
        pytest.raises(TimeoutError, match=r"after 60 s \(run_timeout_s\)"),
    ):
        provider.create(props(url, wait=True))


def test_killed_while_waiting_then_up_again_adopts_the_job(
    registered: list[tuple[str, str, str]],
) -> None:
    """Issue 11 scope 7: the provider dies after the PUT; refresh + up start no second run."""

    class Killed(BaseException):
        """The engine's SIGTERM reaching a provider that is waiting."""

    def dying_client(p: dict[str, Any]) -> _api.ArmClient:
        client = _api.ArmClient(str(p["arm_endpoint"]))
        client.sleep = lambda _seconds: (_ for _ in ()).throw(Killed())
        return client

    state = ArmState(job_statuses=["Running", "Running", "Completed"])
    with arm_fake(state) as (url, _):
        killed = _RunProvider()
        killed._client = dying_client  # type: ignore[method-assign]
        with pytest.raises(Killed):
            killed.create(props(url, wait=True))
        # Pulumi recorded nothing (create never returned): refresh has nothing to read and
        # the next up calls create again, in a new provider process.
        outs = _RunProvider().create(props(url, wait=True)).outs
    assert state.count("PUT", "/jobs/") == 1
    assert outs["status"] == "Completed"
    assert outs["model_version"] == "7"
    assert len(registered) == 1


def test_refresh_reports_the_job_status() -> None:
    provider = _RunProvider()
    with arm_fake(ArmState(job_statuses=["Running"])) as (url, _):
        outs = provider.create(props(url)).outs
        read = provider.read(JOB_NAME, outs)
    assert read.outs is not None
    assert read.outs["status"] == "Running"


def test_pipeline_declares_its_run_keyed_by_the_version() -> None:
    pipeline = {
        "name": "diagnosis",
        "steps": [{"name": "train", "component": "diagnosis.train", "cluster": "cpu"}],
    }
    run = azure_run({"environment": "dev", "clusters": [{"name": "cpu"}], "pipelines": [pipeline]})
    got = run.inputs(
        "pulumi-python:dynamic/mlops:AzureMlPipelineRun", "mlops-pipeline-diagnosis-run"
    )
    version = run.outputs["pipelines"]["diagnosis"]["version"]
    assert got["version"] == version
    assert got["job_name"] == f"diagnosis-{version[:12]}"
    assert got["job_path"] == f"{WORKSPACE_ID}/jobs/diagnosis-{version[:12]}"
    assert got["wait"] is True  # the development tier waits
    assert got["timeout_s"] == 7200
    assert got["arm_endpoint"] == "https://management.azure.com"
    body = got["job"]["properties"]
    assert body["jobType"] == "Pipeline"
    # The component version's ARM id (its id output; echoed as "<name>-id" by the mocks).
    assert body["jobs"]["train"]["componentId"] == "mlops-pipeline-diagnosis-component-train-id"
    assert run.outputs["pipelines"]["diagnosis"]["run_id"] == got["job_name"]


def test_the_waited_runs_model_version_reaches_the_gate_in_the_same_up() -> None:
    """Issue 11 acceptance 2: with waiting on, the gate's candidate is the run's version."""
    from azure_mocks import CLIENT_CONFIG, GATE, REPO, AzureMocks, gate_outputs

    from mlops_infra.testing import run_stack

    spec = {
        "cloud": "azure",
        "environment": "dev",
        "clusters": [{"name": "cpu"}],
        "pipelines": [
            {
                "name": "diagnosis",
                "steps": [{"name": "train", "component": "diagnosis.train", "cluster": "cpu"}],
            }
        ],
        "endpoints": [{"name": "diagnosis", "model": "diagnosis"}],
    }
    run_type = "pulumi-python:dynamic/mlops:AzureMlPipelineRun"
    mocks = AzureMocks(
        outputs={GATE: gate_outputs(), run_type: {"model_version": "7", "status": "Completed"}},
        calls=CLIENT_CONFIG,
    )
    run = run_stack(spec, project_dir=REPO, mocks=mocks, stack="test")
    gate = run.one(
        "pulumi-python:dynamic/mlops:PromotionDecision", "mlops-endpoint-diagnosis-gate"
    ).plain_inputs()
    assert gate["candidate_version"] == "7"
    assert run.outputs["pipelines"]["diagnosis"]["model_version"] == "7"


def test_integer_fields_go_out_as_integers() -> None:
    # The engine hands a dynamic provider every number as a double (`instance_count` of 2
    # arrives as 2.0); the job's integers must reach ARM as integers, like every ARM body.
    job = {
        "properties": {
            **BODY["properties"],
            "jobs": {"train": {"resources": {"instance_count": 2.0}}},
        }
    }
    with arm_fake() as (url, state):
        _RunProvider().create(props(url, job=job))
    sent = state.jobs[JOB_NAME]["properties"]["jobs"]["train"]["resources"]["instance_count"]
    assert (sent, type(sent)) == (2, int)
