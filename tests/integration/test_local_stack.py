"""The local stack, end to end, on the real engine: one stack taken through its life.

The steps run in order on one stack (each needs the one before): a cold `up` that
trains, registers and serves; a no-op `up`; a dead tracking server found by `refresh`
and restored by `up`; a gate that refuses a new version, then serves it; a rollback by
config; lineage back to the data; new data triggering exactly one run; `destroy`
stopping every process and keeping the data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.testing.engine import EngineHarness
from tests.integration.local_support import (
    configure,
    kill_service,
    make_project,
    mlflow_client,
    our_processes,
    post,
    runs_of,
    serving_example,
    stack_spec,
    state_dir,
)

pytestmark = pytest.mark.integration


class Scenario:
    """What the steps share."""

    harness: EngineHarness
    outputs: dict[str, Any]
    first_version: str

    def refresh_outputs(self) -> dict[str, Any]:
        self.outputs = self.harness.outputs()
        return self.outputs

    @property
    def endpoint(self) -> dict[str, Any]:
        return self.outputs["endpoints"]["diagnosis"]

    @property
    def client(self) -> Any:
        return mlflow_client(self.outputs["tracking_url"])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    project = make_project(tmp_path_factory.mktemp("local-stack") / "project")
    harness = EngineHarness(
        project, "e2e", config={"mlops:cloud": "local", "mlops:environment": "local"}
    )
    harness.init()
    configure(harness, stack_spec())
    state = Scenario()
    state.harness = harness
    yield state
    harness.close()


def test_cold_up_serves_a_prediction_of_a_registered_model(scenario: Scenario) -> None:
    summary = scenario.harness.up()
    assert summary.change_summary.get("create", 0) >= 14
    outputs = scenario.refresh_outputs()
    endpoint = scenario.endpoint
    assert endpoint["model_version"] == "1"
    assert endpoint["decision"]["outcome"] == "promoted"
    assert endpoint["decision"]["checks"][0]["passed"] is True
    prediction = post(endpoint["url"], serving_example(outputs["tracking_url"], "diagnosis", "1"))
    assert len(prediction["predictions"]) == 5
    assert all(0.0 <= p <= 1.0 for p in prediction["predictions"])

    client = scenario.client
    version = client.get_model_version("diagnosis", "1")
    run = client.get_run(version.run_id)
    assert run.data.metrics["accuracy"] >= 0.9
    assert {"accuracy", "f1", "roc_auc"} <= set(run.data.metrics)
    pipeline = outputs["pipelines"]["diagnosis"]
    scenario.first_version = pipeline["version"]
    assert run.info.run_id == pipeline["run_id"]
    for tag in ("mlops.code_hash", "mlops.config_hash", "mlops.data_hash", "mlops.git_commit"):
        assert run.data.tags[tag]
    assert run.data.tags["mlops.pipeline_version"] == scenario.first_version
    assert run.data.tags["mlops.status"] == "succeeded"
    assert version.tags["mlops.pipeline_version"] == scenario.first_version
    assert version.aliases == ["champion"]


def test_second_up_changes_nothing_but_the_gate_and_does_not_retrain(scenario: Scenario) -> None:
    runs = len(runs_of(scenario.client))
    summary = scenario.harness.up()
    # The gate asks the registry again on every up; nothing else changes or restarts.
    assert [(s.name, s.op) for s in summary.changes] == [
        ("mlops-endpoint-diagnosis-gate", "update")
    ], summary.describe()
    assert any("gate: unchanged; candidate 1" in str(d) for d in summary.diagnostics), (
        summary.describe()
    )
    assert scenario.harness.preview().changes == ()
    assert len(runs_of(scenario.client)) == runs


def test_refresh_sees_a_dead_tracking_server_and_up_restores_it(scenario: Scenario) -> None:
    before = runs_of(scenario.client)
    pid_file = state_dir(scenario.harness) / "tracking" / "mlops-tracking" / "server.pid"
    kill_service(pid_file)
    refresh = scenario.harness.refresh()
    assert refresh.op("LocalMlflowServer::mlops-tracking") == "update", refresh.describe()
    assert scenario.harness.preview().op("LocalMlflowServer::mlops-tracking") == "update"
    scenario.harness.up()
    after = runs_of(scenario.client)
    assert [r.info.run_id for r in after] == [r.info.run_id for r in before]
    assert scenario.client.get_model_version("diagnosis", "1").status == "READY"
    artifacts = scenario.client.list_artifacts(before[-1].info.run_id, "logs")
    assert {Path(a.path).name for a in artifacts} >= {"step.log"}
    assert scenario.harness.preview().changes == ()


def test_a_failing_gate_keeps_the_previous_version(scenario: Scenario) -> None:
    configure(scenario.harness, stack_spec(c=0.05, threshold=0.999))
    scenario.harness.up()
    outputs = scenario.refresh_outputs()
    decision = scenario.endpoint["decision"]
    assert outputs["pipelines"]["diagnosis"]["model_version"] == "2"
    assert decision["outcome"] == "kept"
    assert decision["candidate"] == "2"
    assert scenario.endpoint["model_version"] == "1"
    assert decision["reason"].startswith(
        "version 2 failed the gate (accuracy >= 0.999: accuracy = "
    )
    assert decision["reason"].endswith("version 1 stays served")
    assert "accuracy" in decision["metrics"]


def test_lowering_the_gate_serves_the_new_version(scenario: Scenario) -> None:
    configure(scenario.harness, stack_spec(c=0.05, threshold=0.8))
    runs = len(runs_of(scenario.client))
    scenario.harness.up()
    scenario.refresh_outputs()
    assert scenario.endpoint["model_version"] == "2"
    assert scenario.endpoint["decision"]["outcome"] == "promoted"
    assert len(runs_of(scenario.client)) == runs  # the gate changed, not the pipeline
    payload = serving_example(scenario.outputs["tracking_url"], "diagnosis", "2")
    assert len(post(scenario.endpoint["url"], payload)["predictions"]) == 5


def test_rollback_by_config_serves_the_old_model_without_training(scenario: Scenario) -> None:
    runs = len(runs_of(scenario.client))
    configure(scenario.harness, stack_spec(c=0.05, threshold=0.8, version=scenario.first_version))
    scenario.harness.up()
    outputs = scenario.refresh_outputs()
    pipeline = outputs["pipelines"]["diagnosis"]
    assert pipeline["deployed_version"] == scenario.first_version
    assert pipeline["version"] != scenario.first_version
    assert pipeline["model_version"] == "1"
    assert scenario.endpoint["model_version"] == "1"
    assert len(runs_of(scenario.client)) == runs


def test_lineage_walks_from_the_endpoint_to_the_data(scenario: Scenario, tmp_path: Path) -> None:
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(scenario.outputs))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_infra.cli",
            "lineage",
            "diagnosis",
            "--outputs",
            str(outputs_file),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lineage = json.loads(result.stdout)
    client = scenario.client
    version = client.get_model_version("diagnosis", lineage["model_version"])
    run = client.get_run(version.run_id)
    assert lineage["run_id"] == run.info.run_id
    assert (
        lineage["pipeline_version"]
        == run.data.tags["mlops.pipeline_version"]
        == scenario.first_version
    )
    assert lineage["git_commit"] == run.data.tags["mlops.git_commit"]
    assert lineage["data_hash"] == run.data.tags["mlops.data_hash"]
    (data,) = lineage["data"]
    assert data["name"] == "breast_cancer"
    assert data["hash"] == run.data.tags["mlops.data.breast_cancer"]
    assert data["hash"].startswith("sha256:")
    assert lineage["mismatches"] == []
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_infra.cli",
            "lineage",
            "diagnosis",
            "--outputs",
            str(outputs_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "└─ data " in text
    assert data["hash"] in text


def test_new_data_triggers_exactly_one_run(scenario: Scenario) -> None:
    configure(scenario.harness, stack_spec(c=0.05, threshold=0.8))
    scenario.harness.up()
    runs = len(runs_of(scenario.client))
    dataset = scenario.harness.project_dir / "data" / "breast_cancer.csv"
    lines = dataset.read_text().splitlines()
    lines[1] = lines[1].replace("17.99", "18.01", 1)  # one measurement corrected
    dataset.write_text("\n".join(lines) + "\n")
    scenario.harness.up()
    after = runs_of(scenario.client)
    assert len(after) == runs + 1
    assert after[-1].data.tags["mlops.status"] == "succeeded"
    scenario.harness.up()
    assert len(runs_of(scenario.client)) == runs + 1


def test_schedule_runs_the_pipeline_on_cron(scenario: Scenario) -> None:
    spec = stack_spec(c=0.05, threshold=0.8)
    spec["pipelines"][0]["schedule"] = {"cron": "* * * * *"}
    configure(scenario.harness, spec)
    runs = len(runs_of(scenario.client))
    scenario.harness.up()
    assert len(runs_of(scenario.client)) == runs  # scheduling is not a new version
    deadline = time.monotonic() + 150
    scheduled: list[Any] = []
    while time.monotonic() < deadline and not scheduled:
        time.sleep(5)
        scheduled = [
            r
            for r in runs_of(scenario.client)
            if r.data.tags.get("mlops.trigger") == "schedule"
            and r.data.tags.get("mlops.status") == "succeeded"
        ]
    assert scheduled, "no scheduled run finished within 150 s"
    deployed = scenario.refresh_outputs()["pipelines"]["diagnosis"]["deployed_version"]
    assert scheduled[0].data.tags["mlops.pipeline_version"] == deployed
    assert scenario.harness.preview().changes == ()


def test_destroy_stops_every_process_and_keeps_the_data(scenario: Scenario) -> None:
    assert our_processes(scenario.harness)  # servers are running before
    scenario.harness.destroy()
    assert our_processes(scenario.harness) == []
    state = state_dir(scenario.harness)
    assert (state / "tracking" / "mlops-tracking" / "mlflow.db").is_file()
    assert any((state / "artifacts" / "mlflow").rglob("MLmodel"))
    assert scenario.harness.stack_resources() == []
