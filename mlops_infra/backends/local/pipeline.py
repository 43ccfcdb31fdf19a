"""Local pipeline: an immutable package in the store, run by the local runner on change.

``pulumi up`` publishes the current version's package and runs it when it has never
completed before (``run_on_change``); an unchanged version neither rebuilds nor
retrains. Pinning ``version`` to an older one (rollback) only switches what is
deployed: its package and model are reused, nothing is trained.
"""

from __future__ import annotations

import json
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

from mlops_infra.backends.local.dynamic import changed_keys, plain, write_private
from mlops_infra.backends.local.layout import StackLayout, log_progress, path_of_file_uri
from mlops_infra.backends.local.packages import deployed_versions, package_dir, publish_package
from mlops_infra.backends.local.process import (
    child_environment,
    is_alive,
    read_record,
    start_process,
    stop_process,
)
from mlops_infra.dynamic_provider import EngineBoundProvider
from mlops_infra.errors import BackendError
from mlops_infra.resources import BuildContext, PipelineArgs, PipelineBackend, PipelineResult
from mlops_infra.specs import PipelineSpec
from mlops_infra.versioning import VersionManifest, resolve_data_path

__all__ = ["LocalPipeline", "PipelineDeployment", "ScheduleProcess"]

#: Inputs whose change is an update of the deployment.
_INPUTS = (
    "deployed_version",
    "run_on_change",
    "tracking_url",
    "model_name",
    "store_uri",
    "steps",
    "data",
    "username",
    "password",
)


def _deploy(props: dict[str, Any]) -> dict[str, Any]:
    from mlops_infra.backends.local.runner import (  # noqa: PLC0415 - imports MLflow; provider-side only
        RunRequest,
        run_pipeline,
    )

    store = path_of_file_uri(props["store_uri"])
    name, deployed = props["name"], props["deployed_version"]
    progress_log = Path(props["progress_log"])

    def progress(message: str) -> None:
        log_progress(progress_log, f"pipeline {name}", message)

    manifest: dict[str, Any] = props["manifest"]
    if deployed == manifest["version"]:
        package = publish_package(store, manifest, Path(props["source_dir"]))
        progress(f"package of version {deployed} is at {package}")
    else:
        package = package_dir(store, name, deployed)
        if not (package / "manifest.json").is_file():
            known = ", ".join(deployed_versions(store, name)) or "none"
            msg = (
                f"pipeline {name!r} version {deployed} was never deployed, so it cannot be "
                f"pinned; deployed versions: {known}"
            )
            raise BackendError(msg)
        progress(
            f"pinned to version {deployed} (current source is {manifest['version']}); no rebuild"
        )
    outs = {
        **plain(props),
        "package_uri": package.as_uri(),
        "run_id": None,
        "model_version": None,
    }
    if not props["run_on_change"] and deployed == manifest["version"]:
        return outs
    stored_manifest = manifest if deployed == manifest["version"] else _stored_manifest(package)
    request = RunRequest.from_props(
        props, version=deployed, manifest=stored_manifest, package=package, steps=props["steps"]
    )
    if deployed != manifest["version"]:
        # A pinned version is only looked up: rolling back never retrains.
        from mlops_infra.backends.local.runner import (  # noqa: PLC0415
            experiment_id,
            find_completed_run,
            tracking_client,
        )

        client = tracking_client(request)
        found = find_completed_run(client, experiment_id(client, name), deployed)
        if found is None:
            msg = (
                f"pipeline {name!r} version {deployed} never completed a run; "
                "nothing to roll back to"
            )
            raise BackendError(msg)
        outs.update(run_id=found[0], model_version=found[1])
        return outs
    outcome = run_pipeline(request, progress)
    outs.update(run_id=outcome.run_id, model_version=outcome.model_version)
    return outs


def _stored_manifest(package: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    return data


class _PipelineProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"pipeline-{props['name']}", outs=_deploy(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=bool(changed_keys(olds, news, _INPUTS)), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_deploy(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, plain(props))


class PipelineDeployment(Resource, module="mlops", name="LocalPipeline"):
    """A deployed pipeline version on this machine."""

    package_uri: pulumi.Output[str]
    """Where the deployed version's package is stored."""

    run_id: pulumi.Output[str | None]
    """MLflow run of the deployed version."""

    model_version: pulumi.Output[str | None]
    """Registered model version the deployed version produced."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the deployment ``name``."""
        outputs = {"package_uri": None, "run_id": None, "model_version": None}
        super().__init__(_PipelineProvider(), name, {**props, **outputs}, opts)


_SCHEDULE_INPUTS = (
    "cron", "timezone", "deployed_version", "package_uri", "tracking_url", "username",
    "password", "steps", "data", "model_name", "python",
)  # fmt: skip


def _schedule(props: dict[str, Any]) -> dict[str, Any]:
    data_dir = Path(props["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    package = path_of_file_uri(props["package_uri"])
    config = {
        **plain(props),
        "version": props["deployed_version"],
        "manifest": _stored_manifest(package),
        "package": str(package),
    }
    config_file = data_dir / "schedule.json"
    write_private(config_file, json.dumps(config, indent=2))  # it may hold tracking credentials
    pid_file = data_dir / "scheduler.pid"
    stop_process(pid_file)
    record = start_process(
        [props["python"], "-m", "mlops_infra.backends.local.scheduler", str(config_file)],
        pid_file=pid_file,
        log_file=data_dir / "scheduler.log",
        env=child_environment(props["python"]),
        cwd=data_dir,
    )
    log_progress(
        Path(props["progress_log"]),
        f"pipeline {props['name']}",
        f"scheduled: {props['cron']} ({props['timezone']}), scheduler pid {record.pid}",
    )
    return {**plain(props), "pid": record.pid, "running": True}


def _schedule_running(props: dict[str, Any]) -> bool:
    return is_alive(read_record(Path(props["data_dir"]) / "scheduler.pid"))


class _ScheduleProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"schedule-{props['name']}", outs=_schedule(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, _SCHEDULE_INPUTS)
        if not _schedule_running(olds):
            changes.append("running")
        return DiffResult(changes=bool(changes), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_schedule(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {**plain(props), "running": _schedule_running(props)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        stop_process(Path(props["data_dir"]) / "scheduler.pid")


class ScheduleProcess(Resource, module="mlops", name="LocalSchedule"):
    """A scheduler process that runs the deployed pipeline version on its cron schedule."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the schedule ``name``."""
        super().__init__(_ScheduleProvider(), name, {**props, "pid": None, "running": None}, opts)


class LocalPipeline(PipelineBackend):
    """Publishes the version's package to the local store and runs it with the local runner."""

    def create(
        self, ctx: BuildContext[PipelineArgs], spec: PipelineSpec, manifest: VersionManifest
    ) -> PipelineResult:
        """Declares the deployment of ``manifest`` (or of the pinned ``spec.version``)."""
        # The tier's default resolves to true here (the local cloud runs pipelines inside
        # ``up``), so false is the user's own choice.
        if spec.wait_for_run is False:
            msg = (
                f"{ctx.name}: wait_for_run: false is not supported on the local target, which "
                "runs a new version inside pulumi up; remove it or set it to true"
            )
            raise BackendError(msg)
        project_dir = ctx.target.project_dir
        layout = StackLayout.of(project_dir, ctx.stack_name)
        deployed = spec.version or manifest.version
        steps: list[dict[str, Any]] = []
        for step in spec.ordered_steps():
            cluster = ctx.args.clusters.get(step.cluster) if step.cluster else None
            steps.append(
                {
                    "name": step.name,
                    "component": step.component,
                    "depends_on": list(step.depends_on),
                    "gpus": cluster.gpus_per_node * step.nodes if cluster else 0,
                    "params": {**spec.parameters, **step.parameters},
                    "environment_variables": dict(step.environment_variables),
                    "timeout_s": step.timeout_s,
                    "retries": step.retries,
                }
            )
        data = {
            name: str(resolve_data_path(ref, project_dir)) if ref.is_local else ref.uri
            for name, ref in spec.data.items()
        }
        tracking = ctx.args.tracking
        props: dict[str, Any] = {
            "name": spec.name,
            "current_version": manifest.version,
            "deployed_version": deployed,
            "manifest": manifest.as_dict(),
            "source_dir": str((project_dir / spec.source_dir).resolve()),
            "project_dir": str(project_dir.resolve()),
            "store_uri": ctx.args.store.uri,
            "tracking_url": tracking.url,
            "username": tracking.username,
            "password": tracking.password,
            "model_name": spec.registered_model,
            "steps": steps,
            "data": data,
            "run_on_change": spec.run_on_change,
            "stack": ctx.stack_name,
            "environment": ctx.target.environment,
            "progress_log": str(layout.progress_log),
            "python": sys.executable,
        }
        deployment = PipelineDeployment(
            ctx.child_name(), props, ctx.opts(additional_secret_outputs=["password"])
        )
        if spec.schedule is not None and spec.schedule.enabled:
            ScheduleProcess(
                ctx.child_name("schedule"),
                {
                    **{k: v for k, v in props.items() if k not in ("manifest", "source_dir")},
                    "package_uri": deployment.package_uri,
                    "cron": spec.schedule.cron,
                    "timezone": spec.schedule.timezone,
                    "data_dir": str(layout.service("schedules", spec.name)),
                },
                ctx.opts(depends_on=[deployment], additional_secret_outputs=["password"]),
            )
        return PipelineResult(
            pipeline_id=deployment.id,
            package_uri=deployment.package_uri,
            deployed_version=deployed,
            run_id=deployment.run_id,
            model_version=deployment.model_version,
        )
