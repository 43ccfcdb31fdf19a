"""The gate's REST calls answer as MlflowClient does, against one real ``mlflow server``.

:class:`~mlops_infra.gates.registry_client.RegistryClient` asks an ``http(s)`` server with
no auth plugin over MLflow's REST API (no MLflow import in the provider process) and any
other through ``MlflowClient``. Every method the gate uses is run both ways on the same
registry, and must give the same answer and leave the same state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.backends.local.process import find_free_port
from mlops_infra.gates import rest_registry
from mlops_infra.gates.registry_client import RegistryClient
from mlops_infra.gates.rest_registry import (
    RestRegistry,
    RestRegistryError,
    answers_over_rest,
)

MODEL = "diagnosis"

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An ``mlflow server`` (sqlite) holding ``diagnosis`` v1 (accuracy 0.95), v2 (0.80)."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("rest-registry")
    port = find_free_port("127.0.0.1")
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            (folder / "artifacts").as_uri(),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = (folder / "server.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"mlflow server did not start:\n{tail}")
                time.sleep(0.5)
        client = MlflowClient(tracking_uri=url, registry_uri=url)
        experiment = client.create_experiment("e")
        client.create_registered_model(MODEL)
        for accuracy in (0.95, 0.80):
            run = client.create_run(experiment)
            client.log_metric(run.info.run_id, "accuracy", accuracy)
            client.log_metric(run.info.run_id, "accuracy", accuracy, step=1)
            client.set_terminated(run.info.run_id)
            client.create_model_version(MODEL, f"runs:/{run.info.run_id}/model", run.info.run_id)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _clients(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, RegistryClient]:
    rest = RegistryClient(url)
    with monkeypatch.context() as patch:
        patch.setattr(rest_registry, "answers_over_rest", lambda *_: False)
        mlflow_client = RegistryClient(url)
    assert isinstance(rest._client, RestRegistry)  # pyright: ignore[reportPrivateUsage]
    assert not isinstance(mlflow_client._client, RestRegistry)  # pyright: ignore[reportPrivateUsage]
    return {"rest": rest, "mlflow": mlflow_client}


def _run_id(url: str, version: str) -> str:
    from mlflow import MlflowClient

    return str(MlflowClient(url, url).get_model_version(MODEL, version).run_id)


READS: dict[str, Callable[[RegistryClient, str], Any]] = {
    "latest version": lambda c, _: c.latest_version(MODEL),
    "latest version of a missing model": lambda c, _: c.latest_version("nothing"),
    "version of a run": lambda c, url: c.version_of_run(MODEL, _run_id(url, "1")),
    "version of an unknown run": lambda c, _: c.version_of_run(MODEL, "0" * 32),
    "alias not set": lambda c, _: c.alias_version(MODEL, "unset"),
    "version with metrics and tags": lambda c, _: c.load(MODEL, "2"),
    "missing version": lambda c, _: c.load(MODEL, "99"),
    "missing model": lambda c, _: c.load("nothing", "1"),
    "artifact location": lambda c, _: c.source(MODEL, "1"),
}


@pytest.mark.parametrize("read", list(READS))
def test_reads_answer_alike(server: str, read: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {name: READS[read](c, server) for name, c in _clients(server, monkeypatch).items()}
    assert answers["rest"] == answers["mlflow"]


@pytest.mark.parametrize("via", ["rest", "mlflow"])
def test_writes_leave_the_same_state(
    server: str, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients(server, monkeypatch)
    writer, reader = clients[via], clients["mlflow" if via == "rest" else "rest"]
    alias, tag = f"champion-{via}", f"mlops.passed.{via}"
    writer.promote(MODEL, alias, "1")
    writer.tag(MODEL, "1", tag, "true")
    assert (reader.alias_version(MODEL, alias), reader.load(MODEL, "1").tags[tag]) == ("1", "true")  # type: ignore[union-attr]
    writer.promote(MODEL, alias, "2")
    assert reader.alias_version(MODEL, alias) == "2"
    # A registry without aliases (Azure ML): the alias is a tag on exactly one version.
    writer.aliases = reader.aliases = "version-tag"
    writer.promote(MODEL, f"tagged-{via}", "1")
    writer.promote(MODEL, f"tagged-{via}", "2")
    assert reader.alias_version(MODEL, f"tagged-{via}") == "2"
    assert f"mlops.alias.tagged-{via}" not in reader.load(MODEL, "1").tags  # type: ignore[union-attr]


def test_paging_reads_every_version(server: str) -> None:
    rest = RestRegistry(server)
    first = rest.search_model_versions(f"name = '{MODEL}'", max_results=1)
    every = rest.search_model_versions(f"name = '{MODEL}'")
    assert ([v.version for v in first], sorted(v.version for v in every)) == (["2"], ["1", "2"])


def test_failures_other_than_missing_stop_the_gate(server: str) -> None:
    rest = RegistryClient(server)
    with pytest.raises(RestRegistryError, match="HTTP 400 INVALID_PARAMETER_VALUE") as raised:
        rest.latest_version("bad ' quote")
    assert (raised.value.error_code, raised.value.status) == ("INVALID_PARAMETER_VALUE", 400)


def test_no_answer_is_an_error_not_an_empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mlops_infra.gates.rest_registry.time.sleep", lambda _: None)
    port = find_free_port("127.0.0.1")
    with pytest.raises(RestRegistryError, match="no answer from") as raised:
        RegistryClient(f"http://127.0.0.1:{port}").latest_version(MODEL)
    assert (raised.value.error_code, raised.value.status) == (None, None)


@pytest.mark.parametrize(
    ("url", "client_auth", "expected"),
    [
        ("http://127.0.0.1:5000", None, True),
        ("https://mlflow.example.com/", None, True),
        ("https://t.run.app", "mlops_infra.backends.gcp.mlflow_auth:client_environment", False),
        ("arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/t", None, False),
        ("azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s", None, False),
        ("sqlite:///mlflow.db", None, False),
    ],
)
def test_which_servers_are_asked_over_rest(
    url: str, client_auth: str | None, expected: bool
) -> None:
    assert answers_over_rest(url, client_auth) is expected


def test_asking_over_rest_imports_no_mlflow() -> None:
    code = (
        "import sys; from mlops_infra.gates.registry_client import RegistryClient; "
        "RegistryClient('http://127.0.0.1:1', 'admin', 'pw'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert json.loads(done.stdout) == []
