"""The gate's registry client against a fake Azure ML MLflow endpoint that demands Entra ID.

The fake (``mlflow_fake.py``) refuses requests without a bearer token, supports
model-version tags and answers registered-model aliases with 404, as Azure ML's MLflow
registry does (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-models-mlflow).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from mlflow.exceptions import MlflowException
from mlflow_fake import TOKEN, RegistryState, Version, mlflow_fake

from mlops_infra.backends.azure import _api, mlflow_auth
from mlops_infra.backends.azure.mlflow_auth import HOOK, client_environment
from mlops_infra.gates.registry_client import RegistryClient

WORKSPACE_PATH = (
    "/mlflow/v1.0/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-test"
    "/providers/Microsoft.MachineLearningServices/workspaces/mlops-tracking"
)


def registry() -> RegistryState:
    return RegistryState(
        versions=[Version("diagnosis", "1", "run-1"), Version("diagnosis", "2", "run-2")],
        metrics={"run-2": {"accuracy": 0.95}},
    )


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployer's ambient credentials give the token the fake accepts."""
    monkeypatch.setattr(_api, "default_token", lambda: TOKEN)
    # Restored after the test: the hook writes the token into the environment.
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "stale")


def exercise(client: RegistryClient, state: RegistryState) -> None:
    """What the gate, the alias and the run lookup do, in order."""
    assert client.aliases == "version-tag"
    assert client.latest_version("diagnosis") == "2"
    assert client.alias_version("diagnosis", "champion") is None
    loaded = client.load("diagnosis", "2")
    assert loaded is not None
    assert loaded.metrics == {"accuracy": 0.95}
    client.promote("diagnosis", "champion", "1")
    client.promote("diagnosis", "champion", "2")
    assert client.alias_version("diagnosis", "champion") == "2"
    assert state.versions[0].tags == {}
    assert state.versions[1].tags == {"mlops.alias.champion": "true"}
    assert client.version_of_run("diagnosis", "run-2") == "2"
    assert client.version_of_run("diagnosis", "run-9") is None
    # Azure ML has no registered-model aliases: never asked for.
    assert not [call for call in state.seen if "alias" in call]
    assert state.refused == []


def test_https_workspace_uri_with_an_entra_token(entra: None) -> None:
    with mlflow_fake(registry()) as (host, state, _):
        exercise(RegistryClient(f"http://{host}{WORKSPACE_PATH}", client_auth=HOOK), state)
    assert set(state.headers) == {f"Bearer {TOKEN}"}


def test_a_request_without_the_token_is_refused_and_stops_the_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_api, "default_token", lambda: "expired")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "stale")
    with mlflow_fake(registry()) as (host, state, _):
        client = RegistryClient(f"http://{host}{WORKSPACE_PATH}", client_auth=HOOK)
        with pytest.raises(MlflowException, match="UNAUTHENTICATED"):
            client.latest_version("diagnosis")
    assert state.refused


def test_azureml_uri_through_the_azureml_mlflow_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """azureml:// URIs: the plugin signs requests with a token from DefaultAzureCredential.

    Only the credential is replaced (a static token instead of the ambient chain); the
    plugin's own request path and signing run for real, over HTTPS.
    """
    from azure.core.credentials import AccessToken
    from azureml.mlflow._internal import service_context_loader, utils

    class Static:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken(TOKEN, int(time.time()) + 3600)

        def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
            from azure.core.credentials import AccessTokenInfo

            return AccessTokenInfo(TOKEN, int(time.time()) + 3600)

    class Ambient:
        def __init__(self, **kwargs: Any) -> None:
            self.credentials = (Static(),)

    monkeypatch.setattr(utils, "DefaultAzureCredential", Ambient)
    monkeypatch.setattr(
        service_context_loader._AzureMLServiceContextLoader,
        "_tracking_uri_to_service_context",
        {},
    )
    for name in ("MLFLOW_RUN_ID", "MLFLOW_TRACKING_TOKEN", "AZUREML_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    with mlflow_fake(registry(), https=True) as (host, state, ca):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
        exercise(RegistryClient(f"azureml://{host}{WORKSPACE_PATH}", client_auth=HOOK), state)
    assert set(state.headers) == {f"Bearer {TOKEN}"}


def test_azureml_uri_without_the_plugin_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mlflow_auth.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(RuntimeError, match=r"pip install 'mlops-infra\[azure\]'"):
        client_environment(f"azureml://westeurope.api.azureml.ms{WORKSPACE_PATH}")


def test_hook_contract() -> None:
    assert HOOK == "mlops_infra.backends.azure.mlflow_auth:client_environment"
    assert mlflow_auth.ALIAS_STRATEGY == "version-tag"
    assert client_environment("file:///tmp/mlruns") == {}
