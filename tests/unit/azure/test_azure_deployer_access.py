"""``<tracking>-deployer-access`` against the ARM contract fake: the workspace accepts the
deployer's ranges only, again after anything reset them, and is closed on delete.

The fake (``arm_fake.py``) follows https://learn.microsoft.com/en-us/rest/api/azureml/workspaces/update
and the workspace's ``networkAcls`` (public access *enabled from selected IP addresses*,
https://learn.microsoft.com/en-us/azure/machine-learning/how-to-configure-private-link#enable-public-access-only-from-internet-ip-ranges),
which Microsoft's contract declares at 2024-10-01-preview and removed at 2025-12-01
(``azure-ai-ml`` 1.35's workspace operations send it alike).
"""

from __future__ import annotations

from typing import Any

import pytest
from arm_fake import TOKEN, WORKSPACE_API_VERSION, ArmState, arm_fake
from azure_mocks import WORKSPACE_ID
from pulumi.dynamic import CreateResult, ReadResult

from mlops_infra.backends.azure import _api
from mlops_infra.backends.azure._api import ArmError
from mlops_infra.backends.azure._deployer_access import (
    NETWORK_ACLS_API_VERSION,
    _AccessProvider,
    storage_ip_rules,
)

RANGES = ["52.10.20.30/32", "20.61.0.0/24"]


@pytest.fixture(autouse=True)
def entra_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "default_token", lambda: TOKEN)


def closed_workspace() -> ArmState:
    state = ArmState()
    state.workspaces[WORKSPACE_ID] = {
        "name": "mlops-tracking",
        "properties": {"publicNetworkAccess": "Disabled", "provisioningState": "Succeeded"},
    }
    return state


def props(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE_ID,
        "ranges": RANGES,
        "revision": "r1",
        "arm_endpoint": url,
        **changes,
    }


def outs_of(result: CreateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


def provider() -> _AccessProvider:
    access = _AccessProvider()
    access.sleep = lambda _: None
    return access


def test_create_opens_the_workspace_to_the_ranges_only() -> None:
    assert NETWORK_ACLS_API_VERSION == WORKSPACE_API_VERSION
    with arm_fake(closed_workspace()) as (url, state):
        result = provider().create(props(url))
    assert result.id == f"{WORKSPACE_ID}/networkAcls"
    assert state.requests == [("PATCH", WORKSPACE_ID), ("GET", WORKSPACE_ID)]
    workspace = state.workspaces[WORKSPACE_ID]["properties"]
    assert workspace["publicNetworkAccess"] == "Enabled"
    assert workspace["networkAcls"] == {
        "defaultAction": "Deny",
        "ipRules": [{"value": "52.10.20.30/32"}, {"value": "20.61.0.0/24"}],
    }
    assert outs_of(result)["ranges"] == RANGES
    assert state.refused == []


def test_ranges_reset_by_a_workspace_update_are_seen_on_refresh_and_applied_again() -> None:
    access = provider()
    with arm_fake(closed_workspace()) as (url, state):
        outs = outs_of(access.create(props(url)))
        # A PUT of the workspace elsewhere closes it and resets its ranges.
        state.workspaces[WORKSPACE_ID]["properties"].update(
            {"publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Deny"}}
        )
        read = access.read(f"{WORKSPACE_ID}/networkAcls", outs)
        assert outs_of(read)["ranges"] == []
        diff = access.diff(read.id or "", outs_of(read), props(url))
        assert diff.changes
        assert not diff.replaces
        access.update(read.id or "", outs_of(read), props(url))
    assert state.workspaces[WORKSPACE_ID]["properties"]["publicNetworkAccess"] == "Enabled"
    assert state.count("PATCH") == 2


def test_a_new_revision_applies_the_ranges_again_and_nothing_else_changes() -> None:
    access = provider()
    olds = props("http://fake")
    assert not access.diff("id", olds, props("http://fake")).changes
    assert access.diff("id", olds, props("http://fake", revision="r2")).changes
    assert access.diff("id", olds, props("http://fake", ranges=RANGES[:1])).changes


def test_delete_closes_the_workspace_and_a_deleted_workspace_is_no_error() -> None:
    access = provider()
    with arm_fake(closed_workspace()) as (url, state):
        outs = outs_of(access.create(props(url)))
        access.delete(f"{WORKSPACE_ID}/networkAcls", outs)
        workspace = state.workspaces[WORKSPACE_ID]["properties"]
        assert workspace["publicNetworkAccess"] == "Disabled"
        assert workspace["networkAcls"] == {"defaultAction": "Deny", "ipRules": []}
        del state.workspaces[WORKSPACE_ID]
        access.delete(f"{WORKSPACE_ID}/networkAcls", outs)
        assert access.read(f"{WORKSPACE_ID}/networkAcls", outs).id is None


def test_a_range_azure_refuses_fails_up_with_its_answer() -> None:
    with (
        arm_fake(closed_workspace()) as (url, _),
        pytest.raises(ArmError, match="HTTP 400 BadRequest: ipRules"),
    ):
        provider().create(props(url, ranges=["10.0.0.0/8"]))


@pytest.mark.parametrize(
    ("ranges", "rules"),
    [
        (["52.10.20.30"], ["52.10.20.30"]),
        (["52.10.20.30/32"], ["52.10.20.30"]),
        (["52.10.21.0/31"], ["52.10.21.0", "52.10.21.1"]),
        (["20.61.0.0/24", "52.10.20.30"], ["20.61.0.0/24", "52.10.20.30"]),
    ],
)
def test_storage_ip_rules_give_small_ranges_as_addresses(
    ranges: list[str], rules: list[str]
) -> None:
    """Azure Storage refuses /31 and /32 prefixes: they are given as single addresses
    (https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security)."""
    assert storage_ip_rules(ranges) == rules
