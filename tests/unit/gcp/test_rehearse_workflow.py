"""The Cloud Workflows interpreter of `mlops-infra rehearse` (syntax:
https://cloud.google.com/workflows/docs/reference/syntax), on the backend's own program."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.gcp._rehearse_workflow import WorkflowInterpreter, WorkflowRaised
from mlops_infra.backends.gcp._workflow import CompiledStep, workflow_definition
from mlops_infra.rehearse import RehearsalError


def _program() -> dict[str, Any]:
    steps = [
        CompiledStep("featurize", {"displayName": "f"}, 1),
        CompiledStep("train", {"displayName": "t"}, 2),
    ]
    return workflow_definition(steps, region="europe-west4", version="v1", poll_interval_s=30)


class _Vertex:
    """Answers the program's Vertex AI calls; the first ``fail`` submissions fail."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.calls: list[tuple[str, str]] = []

    def __call__(self, function: str, args: dict[str, Any]) -> Any:
        self.calls.append((function, args["url"]))
        if function == "http.post":
            name = f"projects/p/locations/europe-west4/customJobs/{len(self.calls)}"
            state = "JOB_STATE_FAILED" if self.fail > 0 else "JOB_STATE_SUCCEEDED"
            self.fail -= 1
            self.last = {"name": name, "state": state}
            return {"body": {"name": name}}
        return {"body": self.last}


ENV = {"GOOGLE_CLOUD_PROJECT_ID": "p", "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": "e1"}


def test_runs_the_generated_program_in_order() -> None:
    vertex = _Vertex()
    result = WorkflowInterpreter(_program(), ENV, vertex).run()
    assert result["execution"] == "e1"
    assert set(result["jobs"]) == {"featurize", "train"}
    assert vertex.calls[0] == (
        "http.post",
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/customJobs",
    )
    assert [f for f, _ in vertex.calls] == ["http.post", "http.get"] * 2


def test_a_failed_job_is_retried_then_raises() -> None:
    vertex = _Vertex(fail=1)  # featurize has one attempt
    with pytest.raises(WorkflowRaised, match="ended in JOB_STATE_FAILED"):
        WorkflowInterpreter(_program(), ENV, vertex).run()


def test_retries_until_an_attempt_succeeds() -> None:
    program = workflow_definition(
        [CompiledStep("train", {"displayName": "t"}, 2)],
        region="europe-west4", version="v1", poll_interval_s=30,
    )  # fmt: skip
    vertex = _Vertex(fail=1)  # train has two attempts
    assert WorkflowInterpreter(program, ENV, vertex).run()["jobs"]["train"].endswith("/3")
    assert [f for f, _ in vertex.calls] == ["http.post", "http.get"] * 2


@pytest.mark.parametrize(
    ("step", "construct"),
    [
        ({"parallel": {}}, "parallel"),
        ({"for": {}}, "for"),
        ({"try": {}}, "try"),
        ({"call": "experimental.executions.run"}, "call experimental.executions.run"),
        ({"assign": [{"x": "${sys.now()}"}]}, "function sys.now"),
        ({"assign": [{"x": "${[1][0]}"}]}, "List"),
    ],
)
def test_unsupported_constructs_are_named(step: dict[str, Any], construct: str) -> None:
    program = {"main": {"steps": [{"s": step}]}}
    with pytest.raises(RehearsalError, match="unsupported construct") as raised:
        WorkflowInterpreter(program, ENV, _Vertex()).run()
    assert repr(construct) in str(raised.value)
