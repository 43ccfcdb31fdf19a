"""Local training job: one component run on the local slots, logging to MLflow, once per version."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from mlops_infra.backends.local.dynamic import changed_keys, plain
from mlops_infra.backends.local.layout import StackLayout, log_progress, path_of_file_uri
from mlops_infra.backends.local.packages import publish_package
from mlops_infra.dynamic_provider import EngineBoundProvider
from mlops_infra.resources import BuildContext, JobResult, TrainingJobArgs, TrainingJobBackend
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest, resolve_data_path

__all__ = ["JobRun", "LocalTrainingJob"]

_INPUTS = ("version", "tracking_url", "username", "password", "store_uri", "step", "data")


def _run(props: dict[str, Any]) -> dict[str, Any]:
    from mlops_infra.backends.local.runner import RunRequest, run_pipeline  # noqa: PLC0415

    store = path_of_file_uri(props["store_uri"])
    package = publish_package(store, props["manifest"], Path(props["source_dir"]))
    request = RunRequest.from_props(
        props,
        version=props["version"],
        manifest=props["manifest"],
        package=package,
        steps=[props["step"]],
    )
    progress_log = Path(props["progress_log"])
    outcome = run_pipeline(request, lambda m: log_progress(progress_log, f"job {props['name']}", m))
    return {**plain(props), "run_id": outcome.run_id, "model_version": outcome.model_version}


class _JobProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"job-{props['name']}", outs=_run(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=bool(changed_keys(olds, news, _INPUTS)), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_run(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, plain(props))


class JobRun(Resource, module="mlops", name="LocalTrainingJob"):
    """A training run on this machine, once per version."""

    run_id: pulumi.Output[str]
    """MLflow run id."""

    model_version: pulumi.Output[str | None]
    """Registered model version produced, if any."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the job run ``name``."""
        super().__init__(
            _JobProvider(), name, {**props, "run_id": None, "model_version": None}, opts
        )


class LocalTrainingJob(TrainingJobBackend):
    """Runs the job's component as a subprocess on the local slots (GPUs when detected)."""

    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Declares the run of ``manifest.version``."""
        project_dir = ctx.target.project_dir
        layout = StackLayout.of(project_dir, ctx.stack_name)
        cluster = ctx.args.cluster
        tracking = ctx.args.tracking
        job = JobRun(
            ctx.child_name(),
            {
                "name": spec.name,
                "version": manifest.version,
                "manifest": manifest.as_dict(),
                "source_dir": str((project_dir / spec.source_dir).resolve()),
                "project_dir": str(project_dir.resolve()),
                "store_uri": ctx.args.store.uri,
                "tracking_url": tracking.url,
                "username": tracking.username,
                "password": tracking.password,
                "model_name": spec.output_model,
                "step": {
                    "name": "train",
                    "component": spec.component,
                    "gpus": cluster.gpus_per_node * spec.nodes if cluster else 0,
                    "params": dict(spec.parameters),
                    "environment_variables": dict(spec.environment_variables),
                    "timeout_s": spec.timeout_s,
                },
                "data": {
                    name: str(resolve_data_path(ref, project_dir)) if ref.is_local else ref.uri
                    for name, ref in spec.data.items()
                },
                "stack": ctx.stack_name,
                "environment": ctx.target.environment,
                "progress_log": str(layout.progress_log),
                "python": sys.executable,
            },
            ctx.opts(additional_secret_outputs=["password"]),
        )
        return JobResult(
            job_name=f"{spec.name}-{manifest.version[:12]}",
            run_id=job.run_id,
            model_version=job.model_version,
        )
