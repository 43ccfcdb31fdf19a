"""Vertex AI custom jobs run here, as the Workflows program's HTTP calls create them.

Answers ``POST <region>-aiplatform.googleapis.com/v1/projects/*/locations/*/customJobs``
(and the ``customJobs.create`` connector) by running the job's container to completion,
and ``GET`` of the job by its state, each only while the workflow's custom role holds its
permission (:data:`~._workflow.WORKFLOW_PERMISSIONS`). The container gets Vertex AI's contract
(https://cloud.google.com/vertex-ai/docs/training/code-requirements#environment-variables):
its ``command``/``args`` and ``env``, ``AIP_MODEL_DIR``, ``AIP_CHECKPOINT_DIR`` and
``AIP_TENSORBOARD_LOG_DIR`` under ``baseOutputDirectory``, ``CLOUD_ML_JOB_ID``, and the
buckets under ``/gcs`` (Cloud Storage FUSE).

Remapped here: ``/gcs`` is a folder of the run (``/gcs/`` in the job's environment values is
rewritten to it, and what the job writes there is written back to the emulator);
``python`` is the runtime image's virtualenv interpreter; ``MLFLOW_TRACKING_URI`` is the
local tracking server; ``MLOPS_CLOUD_RUN_AUTH`` (an ID token from the metadata server) is
dropped, since the local server needs none.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_infra.backends.gcp._rehearse_gcs import EmulatedGcs, FuseMount
from mlops_infra.backends.gcp._workflow import WORKFLOW_PERMISSIONS
from mlops_infra.backends.gcp.container_entry import RUNTIME_REQUIREMENTS
from mlops_infra.rehearse.context import RehearsalContext
from mlops_infra.rehearse.errors import RehearsalError, unsupported
from mlops_infra.rehearse.report import StepTiming

__all__ = ["VertexFake"]

_JOBS = re.compile(
    r"^https://(?P<region>[a-z0-9-]+)-aiplatform\.googleapis\.com/v1/"
    r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/customJobs$"
)
_JOB = re.compile(
    r"^https://[a-z0-9-]+-aiplatform\.googleapis\.com/v1/"
    r"(?P<name>projects/[^/]+/locations/[^/]+/customJobs/[^/]+)$"
)
_CONNECTOR = "googleapis.aiplatform.v1.projects.locations.customJobs.create"
_CREATE = "aiplatform.customJobs.create"
_GET = "aiplatform.customJobs.get"
_BODY_KEYS = {"displayName", "jobSpec", "labels", "encryptionSpec"}
_SPEC_KEYS = {
    "workerPoolSpecs", "scheduling", "serviceAccount", "baseOutputDirectory",
    "enableWebAccess", "network", "reservedIpRanges",
}  # fmt: skip
_GCS_PATH = re.compile(r"/gcs/([a-z0-9][a-z0-9._-]*)/")
_DROPPED = ("MLOPS_CLOUD_RUN_AUTH",)
_CONTRACT = "Vertex AI custom job container"
_STEP_VARIABLE = "MLOPS_STEP"


def _granted(permission: str, call: str) -> None:
    """Fails like Vertex AI's 403 when the workflow's custom role lacks ``permission``."""
    if permission not in WORKFLOW_PERMISSIONS:
        raise RehearsalError(
            "workflow",
            "the workflow identity's custom role",
            f"{call} needs {permission}, which WORKFLOW_PERMISSIONS does not hold",
        )


@dataclass
class VertexFake:
    """Runs custom jobs for a workflow (see the module documentation).

    Args:
        ctx: The rehearsal.
        gcs: The emulated store.
        runtime_env: Emulator and tracking variables every job gets.
        requirements: The component package's requirement lines (runtime image).
    """

    ctx: RehearsalContext
    gcs: EmulatedGcs
    runtime_env: Mapping[str, str]
    requirements: Sequence[str]
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    failures: dict[str, str] = field(default_factory=dict[str, str])

    def __call__(self, function: str, args: dict[str, Any]) -> Any:
        """Answers an HTTP or connector call of the workflow."""
        url = str(args.get("url", ""))
        if function == "http.post" and (match := _JOBS.match(url)):
            _granted(_CREATE, f"POST {url}")
            job = self._create(match["project"], match["location"], args.get("body"))
            return {"code": 200, "headers": {}, "body": job}
        if function == "http.get" and (match := _JOB.match(url)):
            _granted(_GET, f"GET {url}")
            if match["name"] not in self.jobs:
                raise RehearsalError("workflow", "Vertex AI API", f"GET {url}: no such job")
            return {"code": 200, "headers": {}, "body": self.jobs[match["name"]]}
        if function == _CONNECTOR:
            _granted(_CREATE, function)
            parent = str(args.get("parent", ""))
            parts = parent.split("/")
            if len(parts) != 4:
                raise unsupported("workflow", f"{function} parent {parent}", "a call")
            return self._create(parts[1], parts[3], args.get("body"))
        raise unsupported("workflow", f"{function} {url}".strip(), "an HTTP/connector call")

    def _create(self, project: str, location: str, raw: Any) -> dict[str, Any]:
        body = typing.cast(dict[str, Any], raw or {})
        labels = typing.cast(dict[str, str], body.get("labels") or {})
        step = labels.get("mlops-step") or str(body.get("displayName", "job"))
        for key in body:
            if key not in _BODY_KEYS:
                raise unsupported(step, f"CustomJob.{key}", "a custom job body")
        spec = typing.cast(dict[str, Any], body.get("jobSpec") or {})
        for key in spec:
            if key not in _SPEC_KEYS:
                raise unsupported(step, f"CustomJobSpec.{key}", "a custom job body")
        job_id = str(len(self.jobs) + 1)
        name = f"projects/{project}/locations/{location}/customJobs/{job_id}"
        state, error = self._run(step, job_id, spec)
        job: dict[str, Any] = {"name": name, "displayName": body.get("displayName"),
                               "state": state}  # fmt: skip
        if error:
            job["error"] = {"code": 3, "message": error}
            self.failures[step] = error
        self.jobs[name] = job
        return job

    def _run(self, step: str, job_id: str, spec: Mapping[str, Any]) -> tuple[str, str | None]:
        pools = typing.cast(list[dict[str, Any]], spec.get("workerPoolSpecs") or [])
        if len(pools) != 1 or int(pools[0].get("replicaCount", 1)) != 1:
            raise unsupported(step, "several workers", "workerPoolSpecs (rehearse runs one)")
        container = typing.cast(dict[str, Any], pools[0].get("containerSpec") or {})
        if not container.get("command"):
            msg = "no command: the image's own entry point cannot be rehearsed"
            raise RehearsalError(step, _CONTRACT, msg)
        root = self.ctx.workdir / "jobs" / step
        env_list = typing.cast(list[dict[str, Any]], container.get("env") or [])
        given = {
            str(e["name"]): "" if e.get("value") is None else str(e["value"]) for e in env_list
        }
        self._inject_faults(given)
        buckets = {m for value in given.values() for m in _GCS_PATH.findall(value)}
        env = {k: v.replace("/gcs/", f"{root}/gcs/") for k, v in given.items() if k not in _DROPPED}
        env.update(self._vertex_variables(spec, job_id))
        env.update(self.runtime_env)
        env["PYTHONPATH"] = str(self.ctx.project_dir)
        python = self.ctx.runtime_python(self.requirements, RUNTIME_REQUIREMENTS)
        argv = [str(a) for a in typing.cast(list[Any], container["command"])]
        if argv[0] in {"python", "python3"}:
            argv[0] = str(python)
        argv += [str(a) for a in typing.cast(list[Any], container.get("args") or [])]
        mount = FuseMount(self.gcs, root / "gcs", buckets)
        mount.mount()
        scheduling = typing.cast(dict[str, Any], spec.get("scheduling") or {})
        timeout = float(str(scheduling.get("timeout", "604800s")).removesuffix("s"))
        result = self.ctx.processes.run(
            argv, env={**self.ctx.base_environment, **env}, cwd=root,
            log=self.ctx.workdir / "logs" / f"{step}.log", timeout_s=timeout,
        )  # fmt: skip
        written = mount.unmount()
        if result.returncode != 0:
            what = (
                "ran past scheduling.timeout" if result.timed_out else f"exit {result.returncode}"
            )
            return "JOB_STATE_FAILED", f"{_CONTRACT} ({what})\n{result.tail()}"
        outputs = sorted({uri.rsplit("/", 1)[0] + "/" for uri in written})
        self.ctx.report.step(StepTiming(step, result.seconds, tuple(outputs)))
        return "JOB_STATE_SUCCEEDED", None

    def _inject_faults(self, given: dict[str, str]) -> None:
        renamed = self.ctx.faults.rename_variable
        if renamed and renamed[0] in given:
            given[renamed[1]] = given.pop(renamed[0])
        dropped = self.ctx.faults.drop_input
        if dropped and _STEP_VARIABLE in given:
            step: dict[str, Any] = json.loads(given[_STEP_VARIABLE])
            if step.get("step") == dropped[0]:
                kept = [s for s in typing.cast(list[str], step["inputs_from"]) if s != dropped[1]]
                given[_STEP_VARIABLE] = json.dumps({**step, "inputs_from": kept})

    @staticmethod
    def _vertex_variables(spec: Mapping[str, Any], job_id: str) -> dict[str, str]:
        output = typing.cast(dict[str, Any], spec.get("baseOutputDirectory") or {})
        prefix = str(output.get("outputUriPrefix", "")).rstrip("/")
        values = {"CLOUD_ML_JOB_ID": job_id}
        if prefix:
            values |= {
                "AIP_MODEL_DIR": f"{prefix}/model/",
                "AIP_CHECKPOINT_DIR": f"{prefix}/checkpoints/",
                "AIP_TENSORBOARD_LOG_DIR": f"{prefix}/logs/",
            }
        return values
