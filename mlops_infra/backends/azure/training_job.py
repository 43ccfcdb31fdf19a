"""Azure training job: an Azure ML command job whose name is its content hash.

The ``PUT`` of an Azure ML job *submits the run*, and almost nothing of a job can be
changed afterwards. So the job's name is ``<job>-<version[:12]>``, the version being the
content hash of its code, parameters, image and data: an unchanged version is never
re-submitted, a changed one is a new job (the old one is retained on delete, so its run
history stays). Settings outside the version (cluster, timeout) do not re-run a job:
changes to them are ignored for an existing job. ``pulumi up`` returns once the job is
submitted, not when it finishes; the job's MLflow run id is its name.

The code package and local datasets are uploaded to the artifact store (``jobs/<job>/
<version>/``) and registered as an Azure ML code version; the job runs in the spec's
``image``, the flavor's ``environment``, or an environment built from the flavor's base
image and the components' requirements. On a cluster, the job runs with the cluster's
managed identity (least privilege: the store and the registry); without one, on
serverless compute.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native.machinelearningservices as ml

from mlops_infra.backends.azure._naming import iso_duration
from mlops_infra.backends.azure._scope import AnyContext, azure_foundation, workspace_of
from mlops_infra.backends.azure._workload import (
    environment_id,
    retained,
    step_command,
    upload_code,
    upload_data,
)
from mlops_infra.backends.azure.container_entry import encode_context
from mlops_infra.backends.azure.options import AzureJobOptions
from mlops_infra.resources import BuildContext, JobResult, TrainingJobArgs, TrainingJobBackend
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest

__all__ = ["AzureMlTrainingJob", "job_name", "lineage_tags"]


def job_name(name: str, version: str) -> str:
    """The Azure ML job name (and MLflow run id) of ``name`` at ``version``."""
    return f"{name}-{version[:12]}"


def lineage_tags(ctx: AnyContext, manifest: VersionManifest, name: str) -> dict[str, str]:
    """Tags every run carries: the version and the hashes it is made of."""
    return {
        "mlops.pipeline": name,
        "mlops.pipeline_version": manifest.version,
        "mlops.code_hash": manifest.code_hash,
        "mlops.config_hash": manifest.config_hash,
        "mlops.data_hash": manifest.data_hash,
        "mlops.stack": ctx.stack_name,
        "mlops.environment": ctx.target.environment,
    }


class AzureMlTrainingJob(TrainingJobBackend):
    """Submits one Azure ML command job per version of the training job."""

    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Uploads the package and data, and declares the job of ``manifest.version``."""
        options = ctx.options_as(AzureJobOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        workspace = workspace_of(ctx.args.tracking, foundation, ctx.name)
        project_dir = ctx.target.project_dir
        source_dir = project_dir / spec.source_dir
        prefix = f"jobs/{spec.name}/{manifest.version}"
        store_uri = ctx.args.store.uri
        environment = environment_id(
            ctx,
            options,
            workspace=workspace,
            image=spec.image,
            role="environment",
            source_dir=source_dir,
            manifest=manifest,
        )
        code_id = upload_code(
            ctx,
            foundation=foundation,
            workspace=workspace,
            store_uri=store_uri,
            prefix=prefix,
            manifest=manifest,
            source_dir=source_dir,
        )
        data = upload_data(
            ctx,
            foundation=foundation,
            store_uri=store_uri,
            prefix=prefix,
            refs=spec.data,
            project_dir=project_dir,
        )
        name = job_name(spec.name, manifest.version)
        tags = lineage_tags(ctx, manifest, spec.name)
        context = encode_context(
            {
                "pipeline": spec.name,
                "step": "train",
                "version": manifest.version,
                "model_name": spec.output_model or spec.name,
                "params": dict(spec.parameters),
                "data": data.remote,
                "tags": tags,
            }
        )
        cluster = ctx.args.cluster
        gpus = cluster.gpus_per_node if cluster else 0
        distributed = cluster is not None and (spec.nodes > 1 or gpus > 1)
        ml.Job(
            ctx.child_name(),
            resource_group_name=workspace.resource_group_name,
            workspace_name=workspace.name,
            id=name,
            properties=ml.CommandJobArgs(
                job_type="Command",
                display_name=name,
                description=f"mlops-infra training job {spec.name} version {manifest.version}",
                experiment_name=options.experiment_name or spec.name,
                command=step_command(spec.component, context, [], data=data.names, output=True),
                code_id=code_id,
                environment_id=environment,
                environment_variables=dict(spec.environment_variables),
                compute_id=cluster.id if cluster else None,
                # The cluster's managed identity (least privilege) rather than the
                # submitter's token; serverless compute keeps Azure ML's default.
                identity=ml.ManagedIdentityArgs(identity_type="Managed") if cluster else None,
                resources=ml.JobResourceConfigurationArgs(
                    instance_count=spec.nodes,
                    instance_type=None if cluster else options.serverless_instance_type,
                ),
                distribution=ml.PyTorchArgs(
                    distribution_type="PyTorch", process_count_per_instance=max(gpus, 1)
                )
                if distributed
                else None,
                limits=ml.CommandJobLimitsArgs(
                    job_limits_type="Command", timeout=iso_duration(spec.timeout_s)
                ),
                inputs=dict(data.inputs) or None,
                outputs={
                    "output": ml.UriFolderJobOutputArgs(
                        job_output_type="uri_folder", mode=ml.OutputDeliveryMode.READ_WRITE_MOUNT
                    )
                },
                tags={**ctx.tags(), **tags},
            ),
            opts=pulumi.ResourceOptions.merge(
                retained(ctx),
                # A submitted job cannot change: a new version is a new job (its name
                # changes, which replaces it); other edits apply to the next version.
                pulumi.ResourceOptions(ignore_changes=["properties"]),
            ),
        )
        return JobResult(job_name=name, run_id=name)
