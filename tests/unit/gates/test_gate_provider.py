"""The gate and the alias against a real MLflow registry (sqlite, in-process).

The decision never moves the alias; only ``ModelAlias`` does, after the deployment; a
gate re-evaluates on every ``up`` and shows no change in previews; client-auth hooks set
the environment MLflow reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.gates import describe_decision
from mlops_infra.gates.alias import _AliasProvider
from mlops_infra.gates.registry_client import client_environment
from mlops_infra.gates.resource import _DecisionProvider

MODEL = "diagnosis"

# MLflow's sqlite store uses SQLAlchemy options that SQLAlchemy 2.1 deprecates (not ours).
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A sqlite-backed MLflow registry holding ``diagnosis`` v1 (accuracy 0.95), v2 (0.80)."""
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("e", artifact_location=(tmp_path / "a").as_uri())
    client.create_registered_model(MODEL)
    for accuracy in (0.95, 0.80):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "accuracy", accuracy)
        client.set_terminated(run.info.run_id)
        client.create_model_version(MODEL, f"runs:/{run.info.run_id}/model", run.info.run_id)
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLOPS_TEST_HOOK")}
    mlflow.set_tracking_uri(uri)
    yield uri
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _gate_props(uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "alias": "champion",
        "environment": "dev",
        "tracking_url": uri,
        "gate": {"conditions": [{"metric": "accuracy", "op": ">=", "threshold": 0.9}]},
        "reevaluate": True,
        **extra,
    }


def _alias(uri: str) -> str | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient(uri, uri).get_model_version_by_alias(MODEL, "champion").version)
    except MlflowException:
        return None


def test_the_decision_never_moves_the_alias(registry: str) -> None:
    outs = _DecisionProvider().create(_gate_props(registry, candidate_version="1")).outs
    assert outs is not None
    assert outs["served_version"] == "1"
    assert outs["decision"]["outcome"] == "promoted"
    assert _alias(registry) is None  # only ModelAlias moves it, after the deployment


def test_the_alias_moves_to_the_confirmed_version_only(registry: str) -> None:
    provider = _AliasProvider()
    props = {"model": MODEL, "alias": "champion", "tracking_url": registry}
    provider.create({**props, "version": None})
    assert _alias(registry) is None  # pending: nothing deployed, nothing moved
    provider.update("a", {}, {**props, "version": "1"})
    assert _alias(registry) == "1"
    # A rolled-back deployment confirms the old version: the alias stays there.
    provider.update("a", {}, {**props, "version": "1"})
    assert _alias(registry) == "1"


def test_a_failing_candidate_keeps_the_champion(registry: str) -> None:
    _AliasProvider().create(
        {"model": MODEL, "alias": "champion", "tracking_url": registry, "version": "1"}
    )
    outs = _DecisionProvider().create(_gate_props(registry, candidate_version="2")).outs
    assert outs is not None
    assert (outs["decision"]["outcome"], outs["served_version"]) == ("kept", "1")
    assert _alias(registry) == "1"


def test_an_empty_registry_is_pending_not_an_error(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'empty.db'}"
    outs = _DecisionProvider().create(_gate_props(uri)).outs
    assert outs is not None
    assert outs["served_version"] is None
    assert outs["served_source"] is None
    assert outs["decision"]["outcome"] == "no-candidate"
    assert outs["decision"]["reason"] == "no model version is registered yet"


@pytest.mark.parametrize(
    ("olds", "news", "changes"),
    [
        # Every up re-evaluates, even when nothing in the gate changed.
        ({"reevaluate": True}, {"reevaluate": True}, True),
        # A preview shows no change unless the gate itself changed...
        ({"reevaluate": True}, {"reevaluate": False}, False),
        # ...and shows one when it did.
        ({"pinned_version": None}, {"pinned_version": "3", "reevaluate": False}, True),
    ],
)
def test_the_gate_is_reevaluated_on_every_up(
    olds: dict[str, Any], news: dict[str, Any], changes: bool
) -> None:
    result = _DecisionProvider().diff("g", olds, news)
    assert result.changes is changes
    assert result.replaces == []


def hook(tracking_url: str) -> dict[str, str]:
    """A client-auth hook, as a cloud backend provides one."""
    return {"MLOPS_TEST_HOOK": f"token-for-{tracking_url}"}


def not_callable() -> None:
    """Placeholder so that ``tests.unit.gates.test_gate_provider:NOPE`` is missing."""


@pytest.mark.parametrize(
    ("client_auth", "expected"),
    [
        (None, {}),
        ("", {}),
        (f"{__name__}:hook", {"MLOPS_TEST_HOOK": "token-for-https://t"}),
    ],
)
def test_client_auth_hooks_give_the_environment(
    client_auth: str | None, expected: dict[str, str]
) -> None:
    assert client_environment(client_auth, "https://t") == expected


@pytest.mark.parametrize(
    ("client_auth", "message"),
    [
        ("no_colon", "client_auth 'no_colon' is not 'package.module:function'"),
        (f"{__name__}:MODEL", f"client_auth '{__name__}:MODEL': 'MODEL' is not a function of"),
    ],
)
def test_bad_client_auth_hooks_are_named(client_auth: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        client_environment(client_auth, "https://t")


def test_the_gate_uses_the_hook(registry: str) -> None:
    os.environ.pop("MLOPS_TEST_HOOK", None)
    _DecisionProvider().create(_gate_props(registry, client_auth=f"{__name__}:hook"))
    assert os.environ["MLOPS_TEST_HOOK"] == f"token-for-{registry}"


@pytest.mark.parametrize(
    ("decision", "line"),
    [
        (
            {
                "outcome": "kept",
                "candidate": "3",
                "served": "2",
                "metrics": {"accuracy": 0.81, "f1": 0.7},
                "checks": [
                    {"check": "accuracy >= 0.9", "passed": False, "detail": "accuracy = 0.81"}
                ],
                "reason": "version 3 failed the gate (accuracy >= 0.9: accuracy = 0.81); "
                "version 2 stays served",
            },
            "gate: kept; candidate 3 (accuracy=0.81, f1=0.7); accuracy >= 0.9: FAIL; "
            "serving 2: version 3 failed the gate (accuracy >= 0.9: accuracy = 0.81); "
            "version 2 stays served",
        ),
        (
            {
                "outcome": "no-candidate",
                "candidate": None,
                "served": None,
                "metrics": {},
                "checks": [],
                "reason": "no model version is registered yet",
            },
            "gate: no-candidate; candidate none (no metrics); no checks; "
            "serving nothing: no model version is registered yet",
        ),
        (
            {
                "outcome": "promoted",
                "candidate": "2",
                "served": "2",
                "metrics": {"accuracy": 0.95},
                "checks": [
                    {"check": "accuracy >= 0.9", "passed": True, "detail": ""},
                    {"check": "beats champion", "passed": None, "detail": ""},
                ],
                "reason": "version 2 passed every check and is now served",
            },
            "gate: promoted; candidate 2 (accuracy=0.95); accuracy >= 0.9: pass; "
            "beats champion: n/a; serving 2: version 2 passed every check and is now served",
        ),
    ],
)
def test_decisions_read_as_one_line(decision: dict[str, Any], line: str) -> None:
    assert describe_decision(decision) == line
