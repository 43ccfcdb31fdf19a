"""The pipeline run resource's API calls against moto, its model lookup against MLflow."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from mlops_infra.backends.aws._api import AwsApi
from mlops_infra.backends.aws.mlflow_auth import CLIENT_AUTH
from mlops_infra.backends.aws.pipeline_run import (
    display_name,
    read_run,
    registered_model_version,
    run_token,
    start_run,
)

from .moto_fakes import REGION, Requests, aws, sagemaker_backend
from .sigv4_server import SigV4Endpoint, sigv4_endpoint

__all__ = ["aws"]

PIPELINE = "dev-diagnosis"


class Killed(BaseException):
    """The provider process dying (SIGKILL of ``pulumi up``) while it waits."""


@pytest.fixture
def api(aws: None) -> AwsApi:
    del aws
    api = AwsApi(region=REGION, poll_s=0, sleep=lambda _s: None)
    api.client("sagemaker").create_pipeline(
        PipelineName=PIPELINE,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/dev-pipeline",
        ClientRequestToken="create-dev-diagnosis-0000000000000000",
    )
    return api


def _props(version: str = "pv1", **changes: Any) -> dict[str, Any]:
    return {
        "pipeline_name": PIPELINE,
        "region": REGION,
        "version": version,
        "wait": False,
        "timeout_s": 600,
        "model_name": "diagnosis",
        "tracking_url": "sqlite:///unused.db",
        "client_auth": None,
        **changes,
    }


def _executions() -> list[Any]:
    return list(sagemaker_backend().pipelines[PIPELINE].pipeline_executions.values())


def _running(api: AwsApi, polls: int) -> None:
    """Executions stay ``Executing`` for ``polls`` reads (moto finishes them at once)."""
    left = {"n": polls}

    def describe(**_: Any) -> None:
        for execution in _executions():
            if execution.pipeline_execution_status in ("Succeeded", "Executing"):
                execution.pipeline_execution_status = "Executing" if left["n"] > 0 else "Succeeded"
        left["n"] -= 1

    api.client("sagemaker").meta.events.register(
        "before-call.sagemaker.DescribePipelineExecution", describe
    )


def test_token_and_display_name_follow_the_service_model() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("StartPipelineExecution").input_shape.members
    token, name = run_token(PIPELINE, "a" * 64), display_name("a1b2" * 30)
    assert shape["ClientRequestToken"].metadata["min"] <= len(token) <= 128
    assert len(name) <= 82
    assert re.fullmatch(shape["PipelineExecutionDisplayName"].metadata["pattern"], name)
    assert run_token(PIPELINE, "pv1") == run_token(PIPELINE, "pv1") != run_token(PIPELINE, "pv2")


def test_first_up_starts_one_run_and_a_second_up_none(api: AwsApi) -> None:
    sent = Requests()
    sent.install(api.client("sagemaker"))
    first = start_run(api, _props())
    again = start_run(api, _props())
    assert len(_executions()) == 1
    assert again["execution_arn"] == first["execution_arn"]
    (request,) = sent.of("StartPipelineExecution")
    assert request["ClientRequestToken"] == run_token(PIPELINE, "pv1")
    assert request["PipelineExecutionDisplayName"] == "vpv1"
    assert first["model_version"] is None  # not waited for: the next up's gate finds it


def test_new_version_starts_one_more(api: AwsApi) -> None:
    start_run(api, _props("pv1"))
    start_run(api, _props("pv2"))
    assert sorted(e.pipeline_execution_display_name for e in _executions()) == ["vpv1", "vpv2"]


def test_killed_while_waiting_then_retried_adopts(api: AwsApi) -> None:
    """Crash safety: the run started, the provider died; the next create adopts the run."""

    def die(_s: float) -> None:
        raise Killed

    dying = AwsApi(region=REGION, poll_s=0, sleep=die)
    _running(dying, polls=5)
    with pytest.raises(Killed):
        start_run(dying, _props(wait=True))
    assert [e.pipeline_execution_status for e in _executions()] == ["Executing"]
    outs = start_run(api, _props())
    assert len(_executions()) == 1
    assert outs["execution_arn"] == _executions()[0].arn


# MLflow's SQL store on SQLAlchemy 2.1 uses the deprecated ``noload`` loader strategy.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")
def test_waits_then_finds_the_registered_version(
    api: AwsApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow import MlflowClient

    url = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    client.create_registered_model("diagnosis")
    for pipeline_version in ("pv0", "pv1", "pv9"):
        client.create_model_version(
            "diagnosis", "s3://store/m", tags={"mlops.pipeline_version": pipeline_version}
        )
    _running(api, polls=2)
    outs = start_run(api, _props(wait=True, tracking_url=url))
    assert (outs["status"], outs["model_version"]) == ("Succeeded", "2")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[1].split(" (")[0] for line in lines if " run vpv1: " in line] == [
        "Executing",
        "Succeeded",
    ]


def test_failed_run_stops_up(api: AwsApi) -> None:
    def fail(**_: Any) -> None:
        for execution in _executions():
            execution.pipeline_execution_status = "Failed"

    api.client("sagemaker").meta.events.register(
        "before-call.sagemaker.DescribePipelineExecution", fail
    )
    with pytest.raises(RuntimeError, match=r"version pv1: run .* Failed: .*another up does not"):
        start_run(api, _props(wait=True))


def test_timeout_leaves_the_run_going(api: AwsApi) -> None:
    clock = iter(range(0, 10_000, 100))
    slow = AwsApi(region=REGION, poll_s=0, sleep=lambda _s: None, clock=lambda: next(clock))
    _running(slow, polls=1000)
    with pytest.raises(TimeoutError, match=r"still Executing after 600s"):
        start_run(slow, _props(wait=True))
    assert len(_executions()) == 1


def test_refresh_reads_the_state(api: AwsApi) -> None:
    outs = start_run(api, _props())
    _executions()[0].pipeline_execution_status = "Failed"
    assert read_run(api, outs)["status"] == "Failed"


def test_model_lookup_signs_through_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against SageMaker MLflow the lookup calls the client-auth hook first (SigV4)."""
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/dev-mlops-tracking"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_AUTH"):
        monkeypatch.delenv(name, raising=False)
    endpoint = SigV4Endpoint("AKIDEXAMPLE", "secret", "eu-west-1", "sagemaker-mlflow")
    with sigv4_endpoint(endpoint) as base:
        monkeypatch.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", base)
        props = _props(tracking_url=arn, client_auth=CLIENT_AUTH)
        assert registered_model_version(props) == "3"
    assert endpoint.accepted == ["/api/2.0/mlflow/model-versions/search"]
    assert endpoint.refused == []
