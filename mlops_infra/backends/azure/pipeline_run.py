"""``<pipeline>-run``: exactly one Azure ML pipeline job per pipeline version.

A dynamic resource keyed by the version (a new version replaces it). ``create`` submits
the pipeline job with ``PUT .../workspaces/{ws}/jobs/{id}`` under a name derived from the
version, after a ``GET`` of that name: a job that already exists (an ``up`` killed after
the submission, before Pulumi recorded it) is adopted, never submitted twice. Azure ML
keeps a job's name for good and refuses to submit another under it, so the name is the
idempotency key.

With ``wait`` the resource polls the job (progress lines on stderr, which the engine
shows), fails ``up`` when it fails or outlasts ``timeout_s``, and outputs the registered
model version the run produced (the model version whose MLflow run is the pipeline job's
root run). ``read`` (``pulumi refresh``) reports the job's current status. ``delete``
keeps the job: it is the version's training history.

https://learn.microsoft.com/en-us/rest/api/azureml/jobs/create-or-update
https://learn.microsoft.com/en-us/rest/api/azureml/jobs/get
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["SUCCEEDED", "TERMINAL", "AzureMlPipelineRun", "RunInputs", "registered_version"]

TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
"""Job statuses after which nothing changes (JobStatus in the REST reference)."""

SUCCEEDED = "Completed"
"""The status of a job that finished well."""

_OUTPUTS = ("status", "model_version", "studio_url")


def registered_version(tracking_url: str, model: str, run_id: str) -> str | None:
    """The newest version of ``model`` registered by MLflow run ``run_id``, or ``None``.

    Azure ML's MLflow registry serves ``search_model_versions`` by name; the run is matched
    here, so no filter syntax beyond the name is relied on.
    """
    from mlops_infra.backends.azure.mlflow_auth import HOOK  # noqa: PLC0415
    from mlops_infra.gates.registry_client import RegistryClient  # noqa: PLC0415

    return RegistryClient(tracking_url, client_auth=HOOK).version_of_run(model, run_id)


def _properties(job: Mapping[str, Any] | None) -> dict[str, Any]:
    return cast(dict[str, Any], (job or {}).get("properties") or {})


def _status(job: Mapping[str, Any] | None) -> str:
    return str(_properties(job).get("status") or "Unknown")


def _studio(job: Mapping[str, Any] | None) -> str | None:
    services = cast(dict[str, Any], _properties(job).get("services") or {})
    endpoint = cast(dict[str, Any], services.get("Studio") or {}).get("endpoint")
    return str(endpoint) if endpoint else None


class _RunProvider(EngineBoundProvider):
    """Submits (or adopts) the job, then waits for it when asked."""

    # Replaced in tests (a fake clock); ``time`` otherwise.
    clock: Callable[[], float] = time.monotonic

    def _client(self, props: Mapping[str, Any]) -> Any:
        from mlops_infra.backends.azure._api import ArmClient  # noqa: PLC0415

        return ArmClient(str(props["arm_endpoint"]))

    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        from mlops_infra.backends.azure._api import ML_API_VERSION, progress  # noqa: PLC0415

        client = self._client(props)
        path, name = str(props["job_path"]), str(props["job_name"])
        job = client.get(path, ML_API_VERSION)
        if job is None:
            progress(f"submitting Azure ML pipeline job {name} (version {props['version']})")
            job = client.put(path, ML_API_VERSION, dict(props["job"]))
        else:
            progress(f"Azure ML pipeline job {name} exists ({_status(job)}): adopting it")
        status = _status(job)
        model_version: str | None = None
        if props.get("wait"):
            deadline = self.clock() + float(props["timeout_s"])
            last = ""
            while status not in TERMINAL:
                if status != last:
                    progress(f"{name}: {status}")
                    last = status
                if self.clock() >= deadline:
                    msg = (
                        f"pipeline job {name} is still {status} after {props['timeout_s']} s "
                        f"(run_timeout_s); it keeps running: the next up adopts it. "
                        f"{_studio(job) or ''}"
                    ).strip()
                    raise TimeoutError(msg)
                client.sleep(float(props["poll_s"]))
                job = client.get(path, ML_API_VERSION)
                status = _status(job)
            progress(f"{name}: {status}")
            if status != SUCCEEDED:
                msg = (
                    f"pipeline job {name} ended {status}; Azure ML runs each job name once: "
                    f"change the pipeline (a new version) to run again. {_studio(job) or ''}"
                ).strip()
                raise RuntimeError(msg)
            model_version = registered_version(
                str(props["tracking_url"]), str(props["model_name"]), name
            )
            progress(f"{name}: registered {props['model_name']} version {model_version}")
        return {
            **{k: v for k, v in props.items() if not k.startswith("__")},
            "status": status,
            "model_version": model_version,
            "studio_url": _studio(job),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props["job_name"]), outs=self._run(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("version", "job_path") if olds.get(k) != news.get(k)]
        changes = [k for k in ("wait", "timeout_s") if olds.get(k) != news.get(k)]
        waiting = bool(news.get("wait")) and olds.get("status") != SUCCEEDED
        return DiffResult(
            changes=bool(replaces or changes or waiting),
            replaces=replaces,
            delete_before_replace=False,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Same version: the job exists; _run adopts it and waits when asked.
        del olds
        return UpdateResult(outs=self._run(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from mlops_infra.backends.azure._api import ML_API_VERSION  # noqa: PLC0415

        job = self._client(props).get(str(props["job_path"]), ML_API_VERSION)
        if job is None:
            return ReadResult(None, {})
        return ReadResult(id_, {**props, "status": _status(job), "studio_url": _studio(job)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # The job is the version's history (and its name cannot be reused): keep it.
        del props


class RunInputs:
    """What one run of a pipeline version needs (the resource's inputs)."""

    def __init__(
        self,
        *,
        job_path: pulumi.Input[str],
        job_name: str,
        version: str,
        job: pulumi.Input[Mapping[str, Any]],
        model_name: str,
        tracking_url: pulumi.Input[str],
        wait: bool,
        timeout_s: int,
        poll_s: float = 30.0,
        arm_endpoint: str = "https://management.azure.com",
    ) -> None:
        """Collects the inputs (see :class:`AzureMlPipelineRun`)."""
        self.props: dict[str, Any] = {
            "job_path": job_path,
            "job_name": job_name,
            "version": version,
            "job": job,
            "model_name": model_name,
            "tracking_url": tracking_url,
            "wait": wait,
            "timeout_s": timeout_s,
            "poll_s": poll_s,
            "arm_endpoint": arm_endpoint,
        }


class AzureMlPipelineRun(Resource, module="mlops", name="AzureMlPipelineRun"):
    """The one Azure ML pipeline job of a pipeline version (see the module docstring)."""

    status: pulumi.Output[str]
    """The job's status (``Completed``, ``Running``, ... as Azure ML reports it)."""

    model_version: pulumi.Output[str | None]
    """Model version the run registered (when ``up`` waited for it), else ``None``."""

    studio_url: pulumi.Output[str | None]
    """The job's page in Azure ML studio."""

    def __init__(
        self, name: str, inputs: RunInputs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the run ``name``."""
        props = {**inputs.props, **dict.fromkeys(_OUTPUTS)}
        super().__init__(_RunProvider(), name, props, opts)
