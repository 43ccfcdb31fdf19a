"""Azure pipeline: a component version per step, the package in Blob storage, a pipeline job.

For the current version (the content hash of code, graph, images, parameters and data):

* the package (component files and ``manifest.json``) is uploaded to the artifact store
  under ``pipelines/<pipeline>/<version>/`` (one ``storage.Blob`` per file), local data
  under ``.../data/``, and registered as an Azure ML code version;
* each step becomes an Azure ML command component ``<component>_<step>`` at that version;
* with ``run_on_change``, the resource ``<pipeline>-run``
  (:mod:`~mlops_infra.backends.azure.pipeline_run`) submits the Azure ML pipeline job
  ``<pipeline>-<version[:12]>`` exactly once per version; with ``wait_for_run`` (the
  tier's default in development) ``up`` waits for it and feeds the model version it
  registered to the gate;
* with a ``schedule``, an Azure ML schedule creates the same pipeline job on its cron.

Every asset is immutable and retained on delete, so pinning ``version`` to an older one
(rollback) only points the schedule at that version's components: nothing is uploaded
or trained again.

Steps run on their cluster with its managed identity, or on serverless compute. Each
step's outputs are mounted into the steps that depend on it; metrics and the model land
in the pipeline's MLflow run (see :mod:`mlops_infra.backends.azure.container_entry`).

pulumi-azure-native uploads blobs with the storage account key: the artifact store needs
``options.shared_key_access: true`` for pipelines on Azure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_azure_native.machinelearningservices as ml

from mlops_infra.backends.azure._naming import iso_duration, unique_suffix
from mlops_infra.backends.azure._scope import (
    JsonObject,
    WorkspaceHandle,
    azure_foundation,
    workspace_of,
)
from mlops_infra.backends.azure._workload import (
    UploadedData,
    asset_reference,
    environment_id,
    retained,
    step_command,
    upload_code,
    upload_data,
)
from mlops_infra.backends.azure.container_entry import encode_context
from mlops_infra.backends.azure.options import AzurePipelineOptions
from mlops_infra.backends.azure.pipeline_run import AzureMlPipelineRun, RunInputs
from mlops_infra.backends.azure.training_job import job_name, lineage_tags
from mlops_infra.errors import BackendError
from mlops_infra.resources import BuildContext, PipelineArgs, PipelineBackend, PipelineResult
from mlops_infra.specs import PipelineSpec, ScheduleSpec, StepSpec, wait_for_run_of
from mlops_infra.versioning import VersionManifest

__all__ = ["WINDOWS_TIME_ZONES", "AzureMlPipeline", "component_name", "schedule_time_zone"]

WINDOWS_TIME_ZONES: Mapping[str, str] = {
    "UTC": "UTC",
    "Etc/UTC": "UTC",
    "Europe/London": "GMT Standard Time",
    "Europe/Dublin": "GMT Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "Europe/Brussels": "Romance Standard Time",
    "Europe/Madrid": "Romance Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Rome": "W. Europe Standard Time",
    "Europe/Zurich": "W. Europe Standard Time",
    "Europe/Stockholm": "W. Europe Standard Time",
    "Europe/Warsaw": "Central European Standard Time",
    "Europe/Helsinki": "FLE Standard Time",
    "America/New_York": "Eastern Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Denver": "Mountain Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "America/Sao_Paulo": "E. South America Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
    "Asia/Shanghai": "China Standard Time",
    "Asia/Singapore": "Singapore Standard Time",
    "Asia/Kolkata": "India Standard Time",
    "Australia/Sydney": "AUS Eastern Standard Time",
}
"""IANA zones (stack files) → Windows zone ids (Azure ML schedules)."""


def component_name(component: str, step: str) -> str:
    """The Azure ML component of ``step`` (lowercase letters, digits and ``_``)."""
    return re.sub(r"[^a-z0-9_]", "_", f"{component}_{step}".lower())


def schedule_time_zone(schedule: ScheduleSpec) -> str:
    """The Windows time zone id Azure ML schedules take for the spec's IANA zone.

    Raises:
        BackendError: the zone has no mapping here; the message lists the ones that do.
    """
    zone = WINDOWS_TIME_ZONES.get(schedule.timezone)
    if zone is None:
        msg = (
            f"schedule timezone {schedule.timezone!r} has no Azure ML (Windows) equivalent "
            f"here; use one of: {', '.join(sorted(WINDOWS_TIME_ZONES))}"
        )
        raise BackendError(msg)
    return zone


class AzureMlPipeline(PipelineBackend):
    """Component versions, package, pipeline job and schedule of one pipeline version."""

    def create(
        self, ctx: BuildContext[PipelineArgs], spec: PipelineSpec, manifest: VersionManifest
    ) -> PipelineResult:
        """Publishes the current version (or points at the pinned one) and schedules it."""
        options = ctx.options_as(AzurePipelineOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        workspace = workspace_of(ctx.args.tracking, foundation, ctx.name)
        time_zone = schedule_time_zone(spec.schedule) if spec.schedule else None
        deployed = spec.version or manifest.version
        pinned = deployed != manifest.version
        prefix = f"pipelines/{spec.name}/{deployed}"
        store_uri = ctx.args.store.uri
        data = upload_data(
            ctx,
            foundation=foundation,
            store_uri=store_uri,
            prefix=prefix,
            refs=spec.data,
            project_dir=ctx.target.project_dir,
            # A pinned version's data was published with it: point at it, upload nothing.
            upload=not pinned,
        )
        if pinned:
            component_ids = {
                step.name: workspace.id.apply(
                    lambda ws, s=step.name: (
                        f"{ws}/components/{component_name(ctx.name, s)}/versions/{deployed}"
                    )
                )
                for step in spec.steps
            }
        else:
            component_ids = self._components(
                ctx,
                options=options,
                spec=spec,
                manifest=manifest,
                workspace=workspace,
                data=data,
                prefix=prefix,
            )
        jobs = {
            step.name: _step_job(
                ctx,
                options,
                step,
                component_ids[step.name],
                data,
                upstreams=spec.ancestors(step.name),
            )
            for step in spec.ordered_steps()
        }
        run = job_name(spec.name, deployed)
        experiment = options.experiment_name or spec.name
        tags = {**ctx.tags(), "mlops-version": deployed}
        model_version: pulumi.Output[str | None] | None = None
        if spec.run_on_change and not pinned:
            wait = wait_for_run_of(spec, ctx.target.profile)
            started = AzureMlPipelineRun(
                ctx.child_name("run"),
                RunInputs(
                    job_path=workspace.id.apply(lambda ws: f"{ws}/jobs/{run}"),
                    job_name=run,
                    version=deployed,
                    job={"properties": _pipeline_job_body(run, experiment, jobs, tags)},
                    model_name=spec.registered_model,
                    tracking_url=ctx.args.tracking.url,
                    wait=wait,
                    timeout_s=spec.run_timeout_s,
                ),
                ctx.opts(),
            )
            if wait:
                model_version = started.model_version
        if spec.schedule is not None and time_zone is not None:
            ml.Schedule(
                ctx.child_name("schedule"),
                resource_group_name=workspace.resource_group_name,
                workspace_name=workspace.name,
                name=component_name(ctx.name, "schedule"),
                properties=ml.SchedulePropertiesArgs(
                    display_name=f"{spec.name} ({spec.schedule.cron})",
                    description=f"runs pipeline {spec.name} version {deployed}",
                    is_enabled=spec.schedule.enabled,
                    trigger=ml.CronTriggerArgs(
                        trigger_type="Cron",
                        expression=spec.schedule.cron,
                        time_zone=time_zone,
                    ),
                    action=ml.JobScheduleActionArgs(
                        action_type="CreateJob",
                        job_definition=_pipeline_job(
                            f"{spec.name} (scheduled)", experiment, jobs, tags
                        ),
                    ),
                    tags=tags,
                ),
                opts=ctx.opts(),
            )
        return PipelineResult(
            pipeline_id=run,
            package_uri=pulumi.Output.from_input(store_uri).apply(lambda u: f"{u}/{prefix}"),
            deployed_version=deployed,
            run_id=run if spec.run_on_change and not pinned else None,
            model_version=model_version,
        )

    def _components(
        self,
        ctx: BuildContext[PipelineArgs],
        *,
        options: AzurePipelineOptions,
        spec: PipelineSpec,
        manifest: VersionManifest,
        workspace: WorkspaceHandle,
        data: UploadedData,
        prefix: str,
    ) -> dict[str, pulumi.Output[str]]:
        """Uploads the package and declares one component version per step."""
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        source_dir = ctx.target.project_dir / spec.source_dir
        code_id = upload_code(
            ctx,
            foundation=foundation,
            workspace=workspace,
            store_uri=ctx.args.store.uri,
            prefix=prefix,
            manifest=manifest,
            source_dir=source_dir,
        )
        environments: dict[str | None, pulumi.Input[str]] = {}
        tags = lineage_tags(ctx, manifest, spec.name)
        ids: dict[str, pulumi.Output[str]] = {}
        for step in spec.ordered_steps():
            image = step.image or spec.image
            if image not in environments:
                role = "environment" if image is None else f"environment-{unique_suffix(image)}"
                environments[image] = environment_id(
                    ctx,
                    options,
                    workspace=workspace,
                    image=image,
                    role=role,
                    source_dir=source_dir,
                    manifest=manifest,
                )
            context = encode_context(
                {
                    "pipeline": spec.name,
                    "step": step.name,
                    "version": manifest.version,
                    "model_name": spec.registered_model,
                    "params": {**spec.parameters, **step.parameters},
                    "data": data.remote,
                    "tags": tags,
                }
            )
            upstreams = spec.ancestors(step.name)
            inputs: JsonObject = {dep: {"type": "uri_folder"} for dep in upstreams}
            inputs.update(
                {
                    key: {
                        "type": "uri_folder"
                        if isinstance(value, ml.UriFolderJobInputArgs)
                        else "uri_file"
                    }
                    for key, value in data.inputs.items()
                }
            )
            name = component_name(ctx.name, step.name)
            component = ml.ComponentVersion(
                ctx.child_name(f"component-{step.name}"),
                resource_group_name=workspace.resource_group_name,
                workspace_name=workspace.name,
                name=name,
                version=manifest.version,
                properties=ml.ComponentVersionPropertiesArgs(
                    description=f"step {step.name} of pipeline {spec.name}",
                    # The command component schema (what `az ml component create` sends).
                    component_spec={
                        "name": name,
                        "version": manifest.version,
                        "type": "command",
                        "display_name": f"{spec.name}/{step.name}",
                        "code": code_id.apply(asset_reference),
                        "environment": pulumi.Output.from_input(environments[image]).apply(
                            asset_reference
                        ),
                        "command": step_command(
                            step.component,
                            context,
                            upstreams,
                            data=data.names,
                            output=True,
                        ),
                        "environment_variables": dict(step.environment_variables),
                        "inputs": inputs,
                        "outputs": {"output": {"type": "uri_folder"}},
                    },
                    tags={**ctx.tags(), **tags},
                ),
                opts=retained(ctx),
            )
            ids[step.name] = component.id
        return ids


def _step_job(
    ctx: BuildContext[PipelineArgs],
    options: AzurePipelineOptions,
    step: StepSpec,
    component_id: pulumi.Input[str],
    data: UploadedData,
    *,
    upstreams: Sequence[str],
) -> JsonObject:
    """One node of the pipeline job: its component, compute, inputs and output.

    Its inputs are every ancestor's output (``upstreams``), as on the local runner.
    """
    cluster = ctx.args.clusters.get(step.cluster) if step.cluster else None
    inputs: JsonObject = {
        dep: {"job_input_type": "literal", "value": f"${{{{parent.jobs.{dep}.outputs.output}}}}"}
        for dep in upstreams
    }
    inputs.update(
        {
            key: {
                "job_input_type": "uri_folder"
                if isinstance(value, ml.UriFolderJobInputArgs)
                else "uri_file",
                "uri": value.uri,
                "mode": "ro_mount",
            }
            for key, value in data.inputs.items()
        }
    )
    node: JsonObject = {
        "type": "command",
        "componentId": component_id,
        "inputs": inputs,
        "outputs": {"output": {"job_output_type": "uri_folder", "mode": "rw_mount"}},
        "limits": {"job_limits_type": "Command", "timeout": iso_duration(step.timeout_s)},
        "resources": {"instance_count": step.nodes},
    }
    if cluster is not None:
        node["computeId"] = cluster.id
        node["identity"] = {"identity_type": "Managed"}
        if step.nodes > 1 or cluster.gpus_per_node > 1:
            node["distribution"] = {
                "distribution_type": "PyTorch",
                "process_count_per_instance": max(cluster.gpus_per_node, 1),
            }
    else:
        node["resources"]["instance_type"] = options.serverless_instance_type
    return node


def _pipeline_job_body(
    display_name: str, experiment: str, jobs: Mapping[str, object], tags: Mapping[str, str]
) -> JsonObject:
    """The pipeline job's ``properties`` as the REST API takes them (camelCase).

    https://learn.microsoft.com/en-us/rest/api/azureml/jobs/create-or-update (PipelineJob)
    """
    return {
        "jobType": "Pipeline",
        "displayName": display_name,
        "experimentName": experiment,
        "jobs": dict(jobs),
        "settings": {"continue_on_step_failure": False},
        "tags": dict(tags),
    }


def _pipeline_job(
    display_name: str, experiment: str, jobs: Mapping[str, object], tags: Mapping[str, str]
) -> ml.PipelineJobArgs:
    """The pipeline job running ``jobs`` (the same for the run on change and the schedule)."""
    return ml.PipelineJobArgs(
        job_type="Pipeline",
        display_name=display_name,
        experiment_name=experiment,
        jobs=dict(jobs),
        settings={"continue_on_step_failure": False},
        tags=dict(tags),
    )
