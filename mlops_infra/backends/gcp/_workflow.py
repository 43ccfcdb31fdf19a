"""Cloud Workflows: a pipeline's DAG compiled to a workflow, and one execution per version.

The workflow runs the steps in dependency order, each as a Vertex AI CustomJob that it
submits and polls until it ends, retrying a failed step ``retries`` times. All steps
of one execution share its id (``MLOPS_EXECUTION_ID``), hence one MLflow run and one
folder of step outputs.

pulumi_gcp cannot start an execution, so :class:`WorkflowExecution` does it through the
REST API at ``pulumi up``, once per pipeline version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

__all__ = [
    "EXECUTION_ID",
    "CompiledStep",
    "WorkflowExecution",
    "executions_url",
    "workflow_definition",
]

EXECUTION_ID = "${execution}"
"""Expression a step's environment uses for the execution id (set in ``init``)."""

_API = "https://workflowexecutions.googleapis.com/v1"
_FAILED = ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED")
_ACTIVE = ("ACTIVE", "QUEUED")
_JOBS_URL = '${api + "projects/" + project + "/locations/" + region + "/customJobs"}'


def executions_url(workflow_id: str) -> str:
    """Returns the URL that starts (POST) or lists executions of ``workflow_id``."""
    return f"{_API}/{workflow_id}/executions"


def _identifier(step: str) -> str:
    return "step_" + re.sub(r"[^A-Za-z0-9_]", "_", step)


@dataclass(frozen=True)
class CompiledStep:
    """One step as the workflow runs it.

    Attributes:
        name: Step name.
        body: REST body of its CustomJob (values may be outputs).
        max_attempts: Tries before the execution fails (``retries + 1``).
    """

    name: str
    body: Mapping[str, Any]
    max_attempts: int


def _run_job(poll_interval_s: int) -> dict[str, Any]:
    failed = " or ".join(f'job.body.state == "{state}"' for state in _FAILED)
    return {
        "params": ["project", "region", "body", "max_attempts"],
        "steps": [
            {
                "init": {
                    "assign": [
                        {"attempt": 1},
                        {"api": '${"https://" + region + "-aiplatform.googleapis.com/v1/"}'},
                    ]
                }
            },
            {
                "submit": {
                    "call": "http.post",
                    "args": {
                        "url": _JOBS_URL,
                        "auth": {"type": "OAuth2"},
                        "body": "${body}",
                    },
                    "result": "created",
                }
            },
            {"wait": {"call": "sys.sleep", "args": {"seconds": poll_interval_s}}},
            {
                "poll": {
                    "call": "http.get",
                    "args": {"url": "${api + created.body.name}", "auth": {"type": "OAuth2"}},
                    "result": "job",
                }
            },
            {
                "check": {
                    "switch": [
                        {
                            "condition": '${job.body.state == "JOB_STATE_SUCCEEDED"}',
                            "return": "${job.body.name}",
                        },
                        {"condition": "${" + failed + "}", "next": "count"},
                    ],
                    "next": "wait",
                }
            },
            {"count": {"assign": [{"attempt": "${attempt + 1}"}]}},
            {
                "retry": {
                    "switch": [{"condition": "${attempt <= max_attempts}", "next": "submit"}],
                    "next": "fail",
                }
            },
            {"fail": {"raise": '${"job " + job.body.name + " ended in " + job.body.state}'}},
        ],
    }


def workflow_definition(
    steps: Sequence[CompiledStep], *, region: str, version: str, poll_interval_s: int
) -> dict[str, Any]:
    """Returns the workflow (as data; JSON is valid workflow syntax) running ``steps`` in order.

    ``steps`` must already be in dependency order.
    """
    main: list[dict[str, Any]] = [
        {
            "init": {
                "assign": [
                    {"project": '${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}'},
                    {"execution": '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}'},
                ]
            }
        }
    ]
    for step in steps:
        main.append(
            {
                _identifier(step.name): {
                    "call": "run_job",
                    "args": {
                        "project": "${project}",
                        "region": region,
                        "body": dict(step.body),
                        "max_attempts": step.max_attempts,
                    },
                    "result": f"{_identifier(step.name)}_job",
                }
            }
        )
    main.append(
        {
            "done": {
                "return": {
                    "version": version,
                    "execution": "${execution}",
                    "jobs": {s.name: f"${{{_identifier(s.name)}_job}}" for s in steps},
                }
            }
        }
    )
    return {"main": {"steps": main}, "run_job": _run_job(poll_interval_s)}


class _ExecutionProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        from mlops_infra.backends.gcp._rest import call  # noqa: PLC0415 - provider side

        execution = call("POST", f"{_API}/{props['workflow']}/executions", {"argument": "{}"})
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        outs.update(execution_name=execution["name"], state=execution.get("state"))
        return CreateResult(id_=execution["name"], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("workflow", "version") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from mlops_infra.backends.gcp._rest import RestError, call  # noqa: PLC0415

        try:
            execution = call("GET", f"{_API}/{id_}")
        except RestError as error:
            if error.status == 404:
                return ReadResult(None, {})
            raise
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        outs["state"] = execution.get("state")
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from mlops_infra.backends.gcp._rest import RestError, call  # noqa: PLC0415

        del props
        try:
            if call("GET", f"{_API}/{id_}").get("state") in _ACTIVE:
                call("POST", f"{_API}/{id_}:cancel")
        except RestError as error:
            if error.status not in (400, 404):
                raise


class WorkflowExecution(Resource, module="mlops", name="GcpWorkflowExecution"):
    """One execution of a workflow, started at ``pulumi up`` for one pipeline version."""

    execution_name: pulumi.Output[str]
    """Resource name of the execution."""

    state: pulumi.Output[str | None]
    """Execution state when last read."""

    def __init__(
        self,
        name: str,
        *,
        workflow: pulumi.Input[str],
        version: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the execution ``name`` of ``workflow`` for ``version``."""
        props = {"workflow": workflow, "version": version, "execution_name": None, "state": None}
        super().__init__(_ExecutionProvider(), name, props, opts)
