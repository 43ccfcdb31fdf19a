"""The harness's parsing of `pulumi ... --json` output, on output captured from real runs.

The fixtures in `fixtures/engine/` come from `tests/integration/programs/dynamic_only` on the
v3.274.1 CLI: the stack was deployed, `greeting` (update in place) and `dataName` (replacement)
were changed, then `preview --json`, `up --json`; then greeting.txt was edited by hand and the
data file deleted, then `refresh --json` (its preview document followed by the update's events)
and `stack export`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_infra.testing.engine import (
    CommandResult,
    EngineHarness,
    LifecycleError,
    OperationSummary,
    Step,
    parse_operation_output,
    parse_state_resources,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "engine"
DATA_URN = (
    "urn:pulumi:fixture::dynamic-only::mlopstest:index:FileBundle"
    "$pulumi-python:dynamic:Resource::bundle-data"
)


def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_preview_document() -> None:
    summary = parse_operation_output("preview", load("preview_update_replace.json"))
    assert summary.change_summary == {"replace": 1, "same": 2, "update": 1}
    assert summary.ops() == {
        "dynamic-only-fixture": "same",
        "bundle-greeting": "update",
        "bundle-data": "replace",
    }
    assert [step.name for step in summary.changes] == ["bundle-greeting", "bundle-data"]
    (data,) = summary.find("bundle-data")
    assert data.urn == DATA_URN
    assert data.type == "pulumi-python:dynamic:Resource"
    assert data.changed == ("filename",)
    assert data.replace_reasons == ("filename",)
    # No detailed diff from a dynamic provider: the changed inputs are compared instead.
    (greeting,) = summary.find("Resource::bundle-greeting")
    assert greeting.changed == ("content",)
    assert summary.diagnostics == ()


def test_up_events_fold_a_replacement_into_one_step() -> None:
    summary = parse_operation_output("up", load("up_update_replace.jsonl"))
    assert summary.change_summary == {"replace": 1, "same": 2, "update": 1}
    assert summary.ops() == {
        "dynamic-only-fixture": "same",
        "bundle": "same",
        "bundle-data": "replace",
        "bundle-greeting": "update",
    }


def test_refresh_reports_outcomes_not_the_preview() -> None:
    summary = parse_operation_output("refresh", load("refresh_drift.txt"))
    assert summary.change_summary == {"delete": 1, "same": 2, "update": 1}
    assert summary.ops()["bundle-greeting"] == "update"
    assert summary.ops()["bundle-data"] == "delete"
    (greeting,) = summary.find("bundle-greeting")
    assert greeting.changed == ("content",)  # outputs compared: the file was edited
    assert {step.name for step in summary.changes} == {"bundle-greeting", "bundle-data"}


def test_stack_export() -> None:
    resources = parse_state_resources(load("stack_export.json"))
    by_name = {resource.name: resource for resource in resources}
    assert set(by_name) >= {"dynamic-only-fixture", "bundle", "bundle-greeting"}
    greeting = by_name["bundle-greeting"]
    assert greeting.custom
    assert greeting.parent == by_name["bundle"].urn
    assert greeting.outputs["content"] == "edited by hand"
    assert parse_state_resources('{"version": 3, "deployment": {"manifest": {}}}') == []


def test_stray_text_and_diagnostics() -> None:
    stdout = (
        "warning: something printed before the JSON\n"
        '{"sequence":1,"diagnosticEvent":{"message":"boom\\n","severity":"error",'
        '"urn":"urn:pulumi:s::p::t:m:T::res"}}\n'
        '{"sequence":2,"diagnosticEvent":{"message":"noise","severity":"debug"}}\n'
        '{"sequence":3,"diagnosticEvent":{"message":"gate: kept","severity":"info",'
        '"urn":"urn:pulumi:s::p::t:m:T::ep"}}\n'
        '{"sequence":4,"summaryEvent":{"resourceChanges":{},"result":"failed"}}\n'
    )
    summary = parse_operation_output("up", stdout)
    assert summary.steps == ()
    assert summary.diagnostics == ("error [res]: boom", "info [ep]: gate: kept")
    assert parse_operation_output("preview", "").steps == ()


def test_unexpected_op_lists_every_operation_seen() -> None:
    parsed = parse_operation_output("preview", load("preview_update_replace.json"))
    summary = OperationSummary(
        parsed.operation,
        parsed.steps,
        parsed.change_summary,
        parsed.diagnostics,
        CommandResult(("preview", "--json"), 0, "", "some stderr", 1.0),
    )
    with pytest.raises(LifecycleError) as raised:
        EngineHarness._expect_ops(
            summary, {"bundle-greeting": "replace", "bundle-data": "replace", "gone": "update"}
        )
    message = str(raised.value)
    assert "bundle-greeting: expected replace, got update" in message
    assert "gone: expected update, but it is not in the preview" in message
    assert "bundle-data: expected" not in message
    assert "pulumi-python:dynamic:Resource  bundle-greeting  changed: content" in message
    assert "replace because: filename" in message
    assert "some stderr" in message
    # An expected `same` may be absent (previews omit unchanged resources).
    EngineHarness._expect_ops(summary, {"bundle": "same"})


def test_step_matching() -> None:
    step = Step("update", "urn:pulumi:s::p::a:b:C$d:e:F::name", "d:e:F")
    assert step.name == "name"
    assert step.matches("name")
    assert step.matches("d:e:F::name")
    assert not step.matches("other")


def test_a_name_two_resources_share_is_refused_by_ops_and_told_apart_by_op() -> None:
    stack = "urn:pulumi:s::p::mlops:index:MlopsStack$"
    component = Step("same", f"{stack}mlops:index:TrackingServer::mlops-tracking", "t")
    server = Step(
        "update",
        f"{stack}mlops:index:TrackingServer$pulumi-python:dynamic/mlops:LocalMlflowServer"
        "::mlops-tracking",
        "pulumi-python:dynamic/mlops:LocalMlflowServer",
    )
    # Either order: which resource "won" used to depend on the engine's event order.
    for steps in ((component, server), (server, component)):
        summary = OperationSummary("refresh", steps, {"same": 1, "update": 1})
        with pytest.raises(ValueError, match="two resources are named 'mlops-tracking'"):
            summary.ops()
        assert summary.op("LocalMlflowServer::mlops-tracking") == "update"
        assert summary.op("index:TrackingServer::mlops-tracking") == "same"
        with pytest.raises(KeyError, match="'mlops-tracking' selects 2 resources"):
            summary.op("mlops-tracking")
        with pytest.raises(KeyError, match="'gone' selects 0 resources"):
            summary.op("gone")


def test_a_resource_reported_twice_keeps_its_last_operation() -> None:
    urn = "urn:pulumi:s::p::a:b:C::data"
    summary = OperationSummary(
        "up", (Step("create-replacement", urn, "a:b:C"), Step("replace", urn, "a:b:C")), {}
    )
    assert summary.ops() == {"data": "replace"}
    assert summary.op("data") == "replace"
