"""``<endpoint>-deployment`` against the ARM contract fake: pending, blue/green, rollback.

The fake (``arm_fake.py``) follows
https://learn.microsoft.com/en-us/rest/api/azureml/online-deployments/create-or-update and
https://learn.microsoft.com/en-us/rest/api/azureml/online-endpoints/create-or-update : traffic
may only name deployments that exist, a deployment with traffic cannot be deleted, and every
request needs an Entra ID bearer token and the api-version.
"""

from __future__ import annotations

from typing import Any

import pytest
from arm_fake import TOKEN, ArmState, arm_fake
from azure_mocks import WORKSPACE_ID

from mlops_infra.backends.azure import _api
from mlops_infra.backends.azure._api import ArmError
from mlops_infra.backends.azure.online_release import (
    _ReleaseProvider,
    deployment_name,
)
from mlops_infra.backends.azure.serving_endpoint import deployment_body, model_asset_id

ENDPOINT = f"{WORKSPACE_ID}/onlineEndpoints/diagnosis-1234abcd"
BODY = deployment_body(
    location="westeurope",
    instance_type="Standard_DS3_v2",
    capacity=1,
    max_concurrent_requests=4,
    request_timeout_ms=5000,
    egress=True,
    description="diagnosis",
    tags={"mlops-model": "diagnosis"},
)


@pytest.fixture(autouse=True)
def entra_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "default_token", lambda: TOKEN)


def fresh_endpoint() -> ArmState:
    """The state right after the native OnlineEndpoint was created: no deployment."""
    state = ArmState()
    state.endpoints["diagnosis-1234abcd"] = {
        "location": "westeurope",
        "kind": "Managed",
        "identity": {"type": "SystemAssigned", "principalId": "p"},
        "tags": {"mlops-model": "diagnosis"},
        "properties": {
            "authMode": "AADToken",
            "publicNetworkAccess": "Disabled",
            "traffic": {},
            "scoringUri": "https://diagnosis.westeurope.inference.ml.azure.com/score",
        },
    }
    return state


def props(url: str, version: str | None, **changes: Any) -> dict[str, Any]:
    return {
        "endpoint_path": ENDPOINT,
        "version": version,
        "model_id": model_asset_id(WORKSPACE_ID, "diagnosis", version),
        "deployment": BODY,
        "canary_percent": None,
        "autoscale": None,
        "timeout_s": 60,
        "arm_endpoint": url,
        **changes,
    }


def traffic(state: ArmState) -> dict[str, int]:
    return state.endpoints["diagnosis-1234abcd"]["properties"]["traffic"]


def test_pending_deploys_nothing_and_calls_nothing() -> None:
    with arm_fake(fresh_endpoint()) as (url, state):
        outs = _ReleaseProvider().create(props(url, None)).outs
    assert outs["deployed_version"] is None
    assert state.requests == []


def test_first_version_is_deployed_confirmed_then_given_traffic() -> None:
    with arm_fake(fresh_endpoint()) as (url, state):
        outs = _ReleaseProvider().create(props(url, "3")).outs
    deployment = state.deployments["diagnosis-1234abcd/v3"]
    assert deployment["properties"]["model"] == f"{WORKSPACE_ID}/models/diagnosis/versions/3"
    assert deployment["properties"]["instanceType"] == "Standard_DS3_v2"
    assert deployment["sku"] == {"name": "Default", "capacity": 1}
    assert traffic(state) == {"v3": 100}
    assert outs["deployed_version"] == "3"
    assert outs["traffic"] == {"v3": 100}
    # The endpoint keeps its settings when its traffic is written back.
    assert state.endpoints["diagnosis-1234abcd"]["properties"]["authMode"] == "AADToken"
    assert state.endpoints["diagnosis-1234abcd"]["identity"] == {"type": "SystemAssigned"}


def test_a_new_version_replaces_the_old_deployment_blue_green() -> None:
    provider = _ReleaseProvider()
    with arm_fake(fresh_endpoint()) as (url, state):
        olds = provider.create(props(url, "3")).outs
        assert provider.diff("x", olds, props(url, "3")).changes is False
        outs = provider.update("x", olds, props(url, "4")).outs
    assert traffic(state) == {"v4": 100}
    assert set(state.deployments) == {"diagnosis-1234abcd/v4"}
    assert outs["deployed_version"] == "4"


def test_a_failed_deployment_leaves_traffic_and_the_served_version() -> None:
    """Issue 11 acceptance 4: nothing downstream (the alias) moves when a deployment fails."""
    provider = _ReleaseProvider()
    state = fresh_endpoint()
    state.failing_models.add(f"{WORKSPACE_ID}/models/diagnosis/versions/4")
    with arm_fake(state) as (url, _):
        olds = provider.create(props(url, "3")).outs
        with pytest.raises(RuntimeError, match="ended Failed; traffic stays on 3"):
            provider.update("x", olds, props(url, "4"))
    assert traffic(state) == {"v3": 100}
    assert olds["deployed_version"] == "3"


def test_canary_splits_then_the_next_up_promotes() -> None:
    provider = _ReleaseProvider()
    with arm_fake(fresh_endpoint()) as (url, state):
        olds = provider.create(props(url, "3", canary_percent=10)).outs
        split = provider.update("x", olds, props(url, "4", canary_percent=10)).outs
        assert traffic(state) == {"v3": 90, "v4": 10}
        assert split["deployed_version"] == "3"
        assert provider.diff("x", split, props(url, "4", canary_percent=10)).changes
        done = provider.update("x", split, props(url, "4", canary_percent=10)).outs
    assert traffic(state) == {"v4": 100}
    assert set(state.deployments) == {"diagnosis-1234abcd/v4"}
    assert done["deployed_version"] == "4"


def test_autoscale_follows_the_serving_deployment() -> None:
    autoscale = {"minimum": 1, "maximum": 4, "cpu_percent": 70, "location": "westeurope"}
    provider = _ReleaseProvider()
    with arm_fake(fresh_endpoint()) as (url, state):
        olds = provider.create(props(url, "3", autoscale=autoscale)).outs
        setting = state.autoscale["diagnosis-1234abcd-v3"]["properties"]
        assert setting["targetResourceUri"] == f"{ENDPOINT}/deployments/v3"
        assert setting["profiles"][0]["capacity"] == {
            "minimum": "1",
            "maximum": "4",
            "default": "1",
        }
        provider.update("x", olds, props(url, "4", autoscale=autoscale))
    assert set(state.autoscale) == {"diagnosis-1234abcd-v4"}


def test_refresh_reads_what_serves() -> None:
    provider = _ReleaseProvider()
    with arm_fake(fresh_endpoint()) as (url, state):
        outs = provider.create(props(url, "3")).outs
        traffic(state).clear()
        read = provider.read("x", outs)
    assert read.outs is not None
    assert read.outs["deployed_version"] is None


def test_requests_without_an_entra_token_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "default_token", lambda: "")
    with arm_fake(fresh_endpoint()) as (url, state), pytest.raises(ArmError, match="401"):
        _ReleaseProvider().create(props(url, "3"))
    assert not state.deployments


@pytest.mark.parametrize(("version", "name"), [("3", "v3"), ("12", "v12"), ("1.2", "v1-2")])
def test_deployment_names(version: str, name: str) -> None:
    assert deployment_name(version) == name
