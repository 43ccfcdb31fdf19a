"""Issue 14.9: the workflow and the scheduler get project custom roles, not predefined ones.

``roles/aiplatform.user`` (hundreds of Vertex AI permissions) and ``roles/workflows.invoker``
(executions get, list, cancel, …) were granted on the project, where Vertex AI custom jobs
and Workflows executions are granted at the lowest. The custom roles hold only what the
workflow definition and Cloud Scheduler call, under an id that a destroy and a new ``up``
of the same stack never reuse (deleted custom roles keep their id for up to 37 days,
https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role).
"""

from __future__ import annotations

import re
from typing import Any, cast

import pytest
from gcp_mocks import CUSTOM_ROLE, PROJECT, PROJECT_IAM, ROLE_SUFFIX, base_spec, synth

from mlops_infra.backends.gcp import _rehearse_vertex
from mlops_infra.backends.gcp._custom_role import ROLE_ID_MAX, RoleSuffix, _SuffixProvider, role_id
from mlops_infra.backends.gcp._workflow import (
    WORKFLOW_PERMISSIONS,
    CompiledStep,
    workflow_definition,
)
from mlops_infra.backends.gcp.pipeline import SCHEDULER_PERMISSIONS
from mlops_infra.backends.gcp.testing import GcpMocks
from mlops_infra.offline import EchoMocks, ProgramRun
from mlops_infra.rehearse.errors import RehearsalError

_SUFFIX_TYPE = "pulumi-python:dynamic/mlops:GcpRoleSuffix"
_VERTEX = "https://europe-west4-aiplatform.googleapis.com/v1"


@pytest.mark.parametrize(
    ("base", "suffix", "expected"),
    [
        (
            "mlops-pipeline-churn-workflow-jobs",
            "0a1b2c3d",
            "mlops_pipeline_churn_workflow_jobs_0a1b2c3d",
        ),
        ("-a.b-", "ff", "a_b_ff"),
        ("---", "ff", "role_ff"),
        ("p" * 80, "0a1b2c3d", "p" * 55 + "_0a1b2c3d"),
    ],
)
def test_role_ids_are_valid_and_end_with_the_suffix(base: str, suffix: str, expected: str) -> None:
    made = role_id(base, suffix)
    assert made == expected
    assert len(made) <= ROLE_ID_MAX
    assert re.fullmatch(r"[A-Za-z0-9_.]{3,64}", made)


@pytest.mark.parametrize("suffix", ["", "a-b", None])
def test_a_suffix_a_role_id_cannot_hold_is_refused(suffix: Any) -> None:
    with pytest.raises(ValueError, match=r"custom role suffix .*: expected letters, digits or '_'"):
        role_id("base", suffix)


def test_the_suffix_is_drawn_at_create_and_kept_until_the_resource_is_created_again() -> None:
    provider = _SuffixProvider()
    first = provider.create({"keeper": "p-workflow-jobs-suffix", "value": None})
    second = provider.create({"keeper": "p-workflow-jobs-suffix", "value": None})
    assert first.outs is not None
    assert second.outs is not None
    assert re.fullmatch(r"[0-9a-f]{8}", first.outs["value"])
    # A destroyed stack brought up again creates the resource again: a new id.
    assert first.outs["value"] != second.outs["value"]
    kept = provider.diff("id", first.outs, {"keeper": "p-workflow-jobs-suffix", "value": None})
    assert kept.changes is False
    assert kept.replaces == []
    renamed = provider.diff("id", first.outs, {"keeper": "q-workflow-jobs-suffix", "value": None})
    assert renamed.changes is True
    assert renamed.replaces == ["keeper"]
    read = provider.read("id", {**first.outs, "__provider": "x"})
    assert read.outs == first.outs


def test_the_suffix_resource_type_is_the_one_plans_fill() -> None:
    assert RoleSuffix.__module__.endswith("_custom_role")
    plan = GcpMocks(applied=False)
    assert plan.previewed(_SUFFIX_TYPE, "n", {}) == {"value": ROLE_SUFFIX}
    assert plan.previewed(CUSTOM_ROLE, "n", {"project": "p", "roleId": "r_1"}) == {
        "name": "projects/p/roles/r_1"
    }
    assert plan.previewed("gcp:projects/iAMMember:IAMMember", "n", {}) is None


def _http_calls(node: Any) -> list[tuple[str, str]]:
    """Every ``http.*`` call of a workflow definition, as (method, url expression)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        call = node.get("call")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if isinstance(call, str) and call.startswith("http."):
            found.append((call.removeprefix("http."), str(node["args"]["url"])))  # pyright: ignore[reportUnknownArgumentType]
        for value in node.values():  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            found.extend(_http_calls(value))
    elif isinstance(node, list):
        for value in node:  # pyright: ignore[reportUnknownVariableType]
            found.extend(_http_calls(value))
    return found


def test_the_workflow_role_holds_exactly_what_the_definition_calls() -> None:
    step = CompiledStep(name="train", body={}, max_attempts=2)
    definition = workflow_definition(
        [step], region="europe-west4", version="v1", poll_interval_s=30
    )
    calls = _http_calls(definition)
    # customJobs.create is a POST on <location>/customJobs; customJobs.get a GET on the job.
    needed = {
        "aiplatform.customJobs.create" if method == "post" else "aiplatform.customJobs.get"
        for method, url in calls
        if "customJobs" in url or "created.body.name" in url
    }
    assert len(needed) == len(calls) == 2
    assert set(WORKFLOW_PERMISSIONS) == needed
    assert SCHEDULER_PERMISSIONS == ("workflows.executions.create",)


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    pipeline: dict[str, Any] = {
        "name": "churn",
        "schedule": {"cron": "0 3 * * 1"},
        "steps": [{"name": "train", "component": "diagnosis.train"}],
    }
    job: dict[str, Any] = {"name": "tune", "component": "diagnosis.train"}
    return synth(base_spec("dev", pipelines=[pipeline], jobs=[job]))


def test_no_predefined_vertex_or_workflows_role_is_granted_on_the_project(run: ProgramRun) -> None:
    roles = {run.inputs(PROJECT_IAM, name)["role"] for name in run.names(PROJECT_IAM)}
    assert not {r for r in roles if r.startswith(("roles/aiplatform.", "roles/workflows."))}
    custom = {r for r in roles if r.startswith(f"projects/{PROJECT}/roles/")}
    assert custom == {
        f"projects/{PROJECT}/roles/mlops_pipeline_churn_workflow_jobs_{ROLE_SUFFIX}",
        f"projects/{PROJECT}/roles/mlops_pipeline_churn_scheduler_starts_{ROLE_SUFFIX}",
    }
    assert sorted(run.names(CUSTOM_ROLE)) == [
        "mlops-pipeline-churn-scheduler-starts",
        "mlops-pipeline-churn-workflow-jobs",
    ]
    description = run.inputs(CUSTOM_ROLE, "mlops-pipeline-churn-workflow-jobs")["description"]
    assert description == "submits and polls the Vertex AI custom jobs of pipeline churn"


@pytest.mark.parametrize(
    ("function", "url", "args", "missing"),
    [
        (
            "http.post",
            f"{_VERTEX}/projects/p/locations/l/customJobs",
            {},
            "aiplatform.customJobs.create",
        ),
        (
            "http.get",
            f"{_VERTEX}/projects/p/locations/l/customJobs/1",
            {},
            "aiplatform.customJobs.get",
        ),
        (
            "googleapis.aiplatform.v1.projects.locations.customJobs.create",
            "",
            {"parent": "projects/p/locations/l"},
            "aiplatform.customJobs.create",
        ),
    ],
)
def test_rehearsal_refuses_a_vertex_call_the_workflow_role_does_not_grant(
    monkeypatch: pytest.MonkeyPatch, function: str, url: str, args: dict[str, Any], missing: str
) -> None:
    monkeypatch.setattr(
        _rehearse_vertex,
        "WORKFLOW_PERMISSIONS",
        tuple(p for p in WORKFLOW_PERMISSIONS if p != missing),
    )
    fake = _rehearse_vertex.VertexFake(
        ctx=cast(Any, None), gcs=cast(Any, None), runtime_env={}, requirements=()
    )
    with pytest.raises(RehearsalError, match=f"needs {re.escape(missing)}, which"):
        fake(function, {"url": url, **args})


def test_an_offline_run_without_gcp_mocks_still_gets_well_formed_role_ids() -> None:
    # Plain echo mocks compute nothing: the suffix falls back on the plans' zeros.
    pipeline: dict[str, Any] = {
        "name": "churn",
        "steps": [{"name": "train", "component": "diagnosis.train"}],
    }
    run = synth(base_spec("dev", pipelines=[pipeline]), mocks=EchoMocks())
    role = run.inputs(CUSTOM_ROLE, "mlops-pipeline-churn-workflow-jobs")
    assert role["roleId"] == f"mlops_pipeline_churn_workflow_jobs_{ROLE_SUFFIX}"
