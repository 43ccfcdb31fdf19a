"""The gate in a rehearsal: the cloud's credentials dropped, its registry's alias strategy kept."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.gates import resource
from mlops_infra.gates.registry_client import alias_strategy
from mlops_infra.offline.runner import Registration
from mlops_infra.rehearse.gate import GATE_TYPE, run_gate
from mlops_infra.rehearse.version_tag_auth import HOOK


@pytest.mark.parametrize(
    ("client_auth", "rehearsed", "over_rest"),
    [
        # Azure ML has no registered-model aliases: still version tags, without Entra ID.
        ("mlops_infra.backends.azure.mlflow_auth:client_environment", HOOK, False),
        # The cloud's gate needs an auth plugin, so MLflow's client: the rehearsal uses it too.
        ("mlops_infra.backends.aws.mlflow_auth:client_environment", None, False),
        (None, None, True),
    ],
)
def test_the_rehearsed_gate_keeps_the_alias_strategy_not_the_credentials(
    client_auth: str | None,
    rehearsed: str | None,
    over_rest: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    asked: list[bool | None] = []

    def decide(props: dict[str, Any], *, over_rest: bool | None = None) -> dict[str, Any]:
        seen.append(props)
        asked.append(over_rest)
        return {}

    monkeypatch.setattr(resource, "decide", decide)
    inputs = {
        "model": "m", "alias": "champion", "tracking_url": "https://cloud.example",
        "username": "u", "password": "p", "client_auth": client_auth, "__provider": "x",
    }  # fmt: skip
    gate = Registration(urn="urn:g", type=GATE_TYPE, name="g", parent=None, custom=True,
                        inputs=inputs)  # fmt: skip

    run_gate(gate, tracking_url="http://127.0.0.1:1/gate", environment={})

    (props,) = seen
    assert props == {
        "model": "m", "alias": "champion", "tracking_url": "http://127.0.0.1:1/gate",
        **({"client_auth": rehearsed} if rehearsed else {}),
    }  # fmt: skip
    assert alias_strategy(props.get("client_auth")) == alias_strategy(client_auth)
    assert asked == [over_rest]


def test_a_tracking_url_only_the_cloud_knows_means_mlflow_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Azure's workspace URI is unknown in the capture: the gate input is absent."""
    asked: list[bool | None] = []

    def decide(props: dict[str, Any], *, over_rest: bool | None = None) -> dict[str, Any]:
        del props
        asked.append(over_rest)
        return {}

    monkeypatch.setattr(resource, "decide", decide)
    gate = Registration(urn="urn:g", type=GATE_TYPE, name="g", parent=None, custom=True,
                        inputs={"model": "m", "alias": "champion"})  # fmt: skip

    run_gate(gate, tracking_url="http://127.0.0.1:1/gate", environment={})

    assert asked == [False]
