"""Cloud Workflows: a pipeline's DAG compiled to a workflow, and one execution per version.

The workflow runs the steps in dependency order, each as a Vertex AI CustomJob that it
submits and polls until it ends, retrying a failed step ``retries`` times. All steps
of one execution share its id (``MLOPS_EXECUTION_ID``), hence one MLflow run and one
folder of step outputs.

Executions on deploy are started by :class:`~._run.PipelineRun`, once per pipeline version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_infra.backends.gcp._legacy_providers import LegacyBookkeepingProvider

__all__ = [
    "EXECUTION_ID",
    "WORKFLOW_PERMISSIONS",
    "CompiledStep",
    "executions_url",
    "workflow_definition",
]

EXECUTION_ID = "${execution}"
"""Expression a step's environment uses for the execution id (set in ``init``)."""

WORKFLOW_PERMISSIONS = ("aiplatform.customJobs.create", "aiplatform.customJobs.get")
"""Every permission the workflow's calls need: ``customJobs.create`` on the location
(``submit``) and ``customJobs.get`` on the job (``poll``), as Vertex AI's REST reference
lists them (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.customJobs/create,
https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.customJobs/get).
A failed job is retried by submitting a new one; nothing is cancelled."""

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


class _ExecutionProvider(LegacyBookkeepingProvider):  # pyright: ignore[reportUnusedClass]
    """Kept at this name for stacks whose state an earlier version wrote (see _legacy_providers)."""
