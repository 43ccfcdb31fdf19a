"""Training jobs on GCP: one run per content version.

* ``vertex`` (default): a Vertex AI CustomJob submitted at ``pulumi up`` by a dynamic
  resource (pulumi_gcp has no CustomJob resource). Its display name is
  ``<job>-<version>``; an unchanged version is never resubmitted, a changed one is a new
  job (the superseded one is cancelled if it still runs). ``up`` does not wait for it.
* ``cloud-run``: a Cloud Run job (CPU, or one L4 GPU) whose execution token is the
  version, so ``up`` starts it once per version and waits until it completes.

Both upload the job's code and local data to ``jobs/<job>/<version>/`` in the artifact
bucket, run the container entry module (:mod:`mlops_infra.backends.gcp.container_entry`) under
a dedicated service account, and log to the tracking server.
"""

from __future__ import annotations

import pulumi
from pulumi_gcp import cloudrunv2

from mlops_infra.backends.gcp._iam import bucket_name
from mlops_infra.backends.gcp._naming import fmt, gcp_labels, physical_name
from mlops_infra.backends.gcp._package import FUSE_ROOT, Package, package_root, publish_package
from mlops_infra.backends.gcp._scope import current_project_id, project_id, region_of, subnet_of
from mlops_infra.backends.gcp._vertex import ENTRYPOINT, Machine, VertexCustomJob, custom_job_body
from mlops_infra.backends.gcp._workload import (
    MlflowTarget,
    Workload,
    lineage_tags,
    vertex_network,
    workload_identity,
    workload_images,
)
from mlops_infra.backends.gcp.options import CloudRunJobOptions, VertexJobOptions
from mlops_infra.errors import BackendError
from mlops_infra.resources import BuildContext, JobResult, TrainingJobArgs, TrainingJobBackend
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest

__all__ = ["CloudRunTrainingJob", "VertexTrainingJob", "job_step"]

_CPU_MACHINE = "n1-standard-8"
_STEP = "train"


def job_step(
    ctx: BuildContext[TrainingJobArgs],
    spec: TrainingJobSpec,
    manifest: VersionManifest,
    package: Package,
    gpus: int,
) -> pulumi.Output[str]:
    """Returns ``MLOPS_STEP`` of the job: a one-step pipeline that registers its model."""
    return pulumi.Output.json_dumps(
        {
            "pipeline": spec.name,
            "step": _STEP,
            "version": manifest.version,
            "component": spec.component,
            "model_name": spec.output_model or spec.name,
            "params": dict(spec.parameters),
            "data": dict(package.data),
            "inputs_from": [],
            "runs_dir": package.runs_dir,
            "code_dir": package.code_dir,
            "tags": lineage_tags(ctx, manifest),
            "gpus": gpus,
            "final": True,
        }
    )


def _prepare(
    ctx: BuildContext[TrainingJobArgs],
    spec: TrainingJobSpec,
    manifest: VersionManifest,
    *,
    tracking_invoker: bool,
) -> tuple[str, Package, Workload]:
    region = region_of(ctx)
    args = ctx.args
    package = publish_package(
        ctx,
        bucket=bucket_name(args.store.uri),
        kind="job",
        name=spec.name,
        version=manifest.version,
        manifest=manifest,
        source_dir=ctx.target.project_dir / spec.source_dir,
        data=spec.data,
        upload=True,
    )
    workload = workload_identity(
        ctx,
        purpose=f"training job {spec.name}",
        region=region,
        store=args.store,
        tracking=args.tracking,
        foundation=args.foundation,
        tracking_invoker=tracking_invoker,
        package_root=package_root("job", spec.name),
        mlflow=MlflowTarget("job", spec.name, spec.output_model or spec.name),
    )
    return region, package, workload


class VertexTrainingJob(TrainingJobBackend):
    """One Vertex AI CustomJob per version, on the cluster's machine shape."""

    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Uploads the package and declares the job of ``manifest.version``."""
        options = ctx.options_as(VertexJobOptions)
        region, package, workload = _prepare(
            ctx, spec, manifest, tracking_invoker=options.tracking_invoker
        )
        machine = Machine.of(
            ctx.args.cluster, nodes=spec.nodes, spot=spec.spot, cpu_machine_type=_CPU_MACHINE
        )
        display_name = f"{spec.name}-{manifest.version}"
        env: dict[str, pulumi.Input[str]] = {
            **spec.environment_variables,
            **workload.env,
            "MLOPS_STEP": job_step(
                ctx, spec, manifest, package, machine.accelerator_count * machine.replicas
            ),
            "MLOPS_EXECUTION_ID": manifest.version,
        }
        image = spec.image or options.default_image
        images = workload_images(
            ctx, manifest, foundation=ctx.args.foundation, store_uri=ctx.args.store.uri,
            source_dir=ctx.target.project_dir / spec.source_dir, named=[image],
        )  # fmt: skip
        body = custom_job_body(
            display_name=display_name,
            machine=machine,
            image=images.of(image),
            env=env,
            service_account=workload.account.email,
            timeout_s=spec.timeout_s,
            output_uri=fmt("{}/output", package.uri),
            network=vertex_network(ctx.args.foundation),
            labels=gcp_labels(ctx.tags({"mlops-version": manifest.version})),
        )
        VertexCustomJob(
            ctx.child_name(),
            project=current_project_id(),
            region=region,
            job=body,
            opts=ctx.opts(depends_on=[*workload.depends_on, *package.objects, *images.resources]),
        )
        return JobResult(job_name=display_name)


class CloudRunTrainingJob(TrainingJobBackend):
    """A Cloud Run job executed once per version (``run_execution_token``)."""

    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Uploads the package and declares the job, run to completion at ``up``."""
        options = ctx.options_as(CloudRunJobOptions)
        cluster = ctx.args.cluster
        if spec.nodes > 1:
            msg = f"{ctx.name}: a Cloud Run job runs on one node; got nodes {spec.nodes}"
            raise BackendError(msg)
        gpu = cluster is not None and cluster.accelerator is not None
        if cluster is not None and gpu and (cluster.gpu, cluster.gpus_per_node) != ("l4", 1):
            msg = (
                f"{ctx.name}: Cloud Run jobs offer one l4 GPU; cluster {cluster.name!r} has "
                f"{cluster.gpus_per_node} x {cluster.gpu!r}; use flavor vertex"
            )
            raise BackendError(msg)
        region, package, workload = _prepare(
            ctx, spec, manifest, tracking_invoker=options.tracking_invoker
        )
        bucket = bucket_name(ctx.args.store.uri)
        name = physical_name(ctx.name, max_length=40, salt=ctx.stack_name)
        plain_env: dict[str, pulumi.Input[str]] = {
            **spec.environment_variables,
            **{k: v for k, v in workload.env.items() if k != "MLOPS_TRACKING_PASSWORD_SECRET"},
            "MLOPS_STEP": job_step(ctx, spec, manifest, package, 1 if gpu else 0),
            "MLOPS_EXECUTION_ID": manifest.version,
        }
        envs = [
            cloudrunv2.JobTemplateTemplateContainerEnvArgs(name=key, value=value)
            for key, value in sorted(plain_env.items())
        ]
        if workload.password is not None:
            # Cloud Run reads the secret itself: the password never appears in the job.
            envs.append(
                cloudrunv2.JobTemplateTemplateContainerEnvArgs(
                    name="MLFLOW_TRACKING_PASSWORD",
                    value_source=cloudrunv2.JobTemplateTemplateContainerEnvValueSourceArgs(
                        secret_key_ref=(
                            cloudrunv2.JobTemplateTemplateContainerEnvValueSourceSecretKeyRefArgs(
                                secret=workload.password.secret_id,
                                version=workload.password.version.version,
                            )
                        )
                    ),
                )
            )
        limits = {"cpu": options.cpu, "memory": options.memory}
        if gpu:
            limits["nvidia.com/gpu"] = "1"
        foundation = ctx.args.foundation
        images = workload_images(
            ctx, manifest, foundation=foundation, store_uri=ctx.args.store.uri,
            source_dir=ctx.target.project_dir / spec.source_dir,
            named=[spec.image or options.default_image],
        )  # fmt: skip
        vpc = (
            cloudrunv2.JobTemplateTemplateVpcAccessArgs(
                # All traffic through the VPC: an internal-only tracking server accepts it.
                egress="ALL_TRAFFIC",
                network_interfaces=[
                    cloudrunv2.JobTemplateTemplateVpcAccessNetworkInterfaceArgs(
                        subnetwork=subnet_of(foundation.private_subnet_ids)
                    )
                ],
            )
            if foundation is not None and foundation.private_subnet_ids
            else None
        )
        cloudrunv2.Job(
            ctx.child_name(),
            name=name,
            location=region,
            project=project_id(),
            deletion_protection=False,
            labels=gcp_labels(ctx.tags({"mlops-version": manifest.version})),
            # A new execution per version; up waits for it to complete.
            run_execution_token=manifest.version,
            template=cloudrunv2.JobTemplateArgs(
                task_count=1,
                parallelism=1,
                template=cloudrunv2.JobTemplateTemplateArgs(
                    service_account=workload.account.email,
                    timeout=f"{spec.timeout_s}s",
                    max_retries=0,
                    node_selector=(
                        cloudrunv2.JobTemplateTemplateNodeSelectorArgs(accelerator="nvidia-l4")
                        if gpu
                        else None
                    ),
                    gpu_zonal_redundancy_disabled=True if gpu else None,
                    vpc_access=vpc,
                    volumes=[
                        cloudrunv2.JobTemplateTemplateVolumeArgs(
                            name="artifacts",
                            gcs=cloudrunv2.JobTemplateTemplateVolumeGcsArgs(
                                bucket=bucket, read_only=False
                            ),
                        )
                    ],
                    containers=[
                        cloudrunv2.JobTemplateTemplateContainerArgs(
                            image=images.of(spec.image or options.default_image),
                            commands=ENTRYPOINT,
                            envs=envs,
                            resources=cloudrunv2.JobTemplateTemplateContainerResourcesArgs(
                                limits=limits
                            ),
                            volume_mounts=[
                                cloudrunv2.JobTemplateTemplateContainerVolumeMountArgs(
                                    name="artifacts", mount_path=fmt("{}/{}", FUSE_ROOT, bucket)
                                )
                            ],
                        )
                    ],
                ),
            ),
            opts=ctx.opts(
                depends_on=[*workload.depends_on, *package.objects, *images.resources],
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{spec.timeout_s + 900}s", update=f"{spec.timeout_s + 900}s"
                ),
            ),
        )
        return JobResult(job_name=f"{name}-{manifest.version}")
