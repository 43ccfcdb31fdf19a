"""SageMaker training job: one run per version, named by the version, MLflow wired in.

Children of the ``TrainingJob`` component ``<name>``:

* ``<name>-code-*`` / ``<name>-manifest`` (+ local data): the version's package in the
  store under ``jobs/<job>/<version>/`` (retained when replaced: versions are immutable).
* ``<name>-role`` (+ policy): reads the package and the job's data, writes its outputs,
  checkpoints and MLflow artifacts, pulls its image, logs; nothing else.
* ``<name>-tracking-password`` (basic-auth tracking servers only): the job's own copy.
* ``<name>``: ``sagemaker.TrainingJob`` named ``<stack>-<job>-<version>``. Every argument
  forces replacement and create waits for the job, so the name and every input derive from
  the version: an unchanged version never re-runs, a new one runs once. Tag changes are
  ignored (they would re-run training). Spot jobs checkpoint to ``.../checkpoints/``.
"""

from __future__ import annotations

import pulumi
from pulumi_aws import sagemaker

from mlops_infra.backends.aws._compute import duration, sagemaker_compute
from mlops_infra.backends.aws._contract import (
    ENTRYPOINT,
)
from mlops_infra.backends.aws._foundation import network_of
from mlops_infra.backends.aws._iam import AwsScope
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._secrets import tracking_credentials
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws._workload import (
    job_hyperparameters,
    publish_package,
    tracking_environment,
    workload_images,
    workload_role,
)
from mlops_infra.backends.aws.options import SageMakerJobOptions
from mlops_infra.resources import BuildContext, JobResult, TrainingJobArgs, TrainingJobBackend
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest

__all__ = ["SageMakerTrainingJob", "job_name"]


def job_name(stack: str, job: str, version: str) -> str:
    """``<stack>-<job>-<version>`` within SageMaker's 63 characters (the version kept whole)."""
    head = physical_name(stack, job, max_length=62 - len(version))
    return f"{head}-{version}"


class SageMakerTrainingJob(TrainingJobBackend):
    """Runs the job's component once per version as a SageMaker training job."""

    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Publishes the version's package and declares its training job."""
        options = ctx.options_as(SageMakerJobOptions)
        compute = sagemaker_compute(
            ctx.name,
            ctx.args.cluster,
            nodes=spec.nodes,
            spot=spec.spot,
            timeout_s=spec.timeout_s,
            max_wait_factor=options.max_wait_factor,
        )
        scope = AwsScope.current(ctx.target.region, ctx.component)
        store = StoreLocation.of(ctx.args.store, scope)
        foundation = ctx.args.foundation
        network = network_of(foundation)
        version = manifest.version
        name = job_name(ctx.stack_name, spec.name, version)
        source_dir = ctx.target.project_dir / spec.source_dir
        images = workload_images(
            ctx,
            scope,
            store,
            manifest,
            foundation=foundation,
            source_dir=source_dir,
            named=[spec.image],
        )
        image = images.of(spec.image)
        package = publish_package(
            ctx,
            scope,
            store,
            manifest,
            kind="jobs",
            version=version,
            source_dir=source_dir,
            data=spec.data,
        )
        outputs = pulumi.Output.concat(package.root, "output/")
        checkpoints = pulumi.Output.concat(package.root, "checkpoints/")
        password_secret, password_access = tracking_credentials(
            ctx, scope, ctx.args.tracking, foundation.encryption_key if foundation else None
        )
        role = workload_role(
            ctx,
            scope,
            store,
            package=package,
            write_prefixes=[outputs, checkpoints],
            images=[image],
            tracking=ctx.args.tracking,
            extra=password_access,
            network=network,
            description=f"SageMaker training job {spec.name}",
        )
        hyperparameters = job_hyperparameters(
            ctx, manifest, spec, version=version, data=package.data, execution=name
        )
        environment: dict[str, pulumi.Input[str]] = {
            **spec.environment_variables,
            **tracking_environment(ctx.args.tracking, password_secret),
        }
        bucket_uri = pulumi.Output.concat("s3://", store.bucket, "/")
        sagemaker.TrainingJob(
            ctx.child_name(),
            training_job_name=name,
            role_arn=role.arn,
            algorithm_specification=sagemaker.TrainingJobAlgorithmSpecificationArgs(
                training_image=image,
                training_input_mode="File",
                container_entrypoints=list(ENTRYPOINT),
            ),
            resource_config=sagemaker.TrainingJobResourceConfigArgs(
                instance_type=compute.instance_type,
                instance_count=compute.count,
                volume_size_in_gb=options.volume_size_gib,
                volume_kms_key_id=store.key_arn if compute.volume_kms else None,
            ),
            input_data_configs=[
                sagemaker.TrainingJobInputDataConfigArgs(
                    channel_name=channel,
                    input_mode="File",
                    data_source=sagemaker.TrainingJobInputDataConfigDataSourceArgs(
                        s3_data_source=sagemaker.TrainingJobInputDataConfigDataSourceS3DataSourceArgs(
                            s3_data_type="S3Prefix",
                            s3_uri=uri,
                            s3_data_distribution_type="FullyReplicated",
                        )
                    ),
                )
                for channel, uri in package.channels.items()
            ],
            output_data_config=sagemaker.TrainingJobOutputDataConfigArgs(
                s3_output_path=pulumi.Output.concat(bucket_uri, outputs),
                kms_key_id=store.key_arn,
            ),
            stopping_condition=sagemaker.TrainingJobStoppingConditionArgs(
                max_runtime_in_seconds=compute.max_runtime_s,
                max_wait_time_in_seconds=compute.max_wait_s,
            ),
            enable_managed_spot_training=compute.spot,
            checkpoint_config=(
                sagemaker.TrainingJobCheckpointConfigArgs(
                    s3_uri=pulumi.Output.concat(bucket_uri, checkpoints)
                )
                if compute.spot
                else None
            ),
            hyper_parameters=hyperparameters,
            environment=environment,
            vpc_config=(
                sagemaker.TrainingJobVpcConfigArgs(
                    subnets=network.subnet_ids, security_group_ids=network.security_group_ids
                )
                if network
                else None
            ),
            enable_inter_container_traffic_encryption=compute.count > 1,
            enable_network_isolation=False,  # the run logs to the tracking server
            timeouts=sagemaker.TrainingJobTimeoutsArgs(create=duration(compute.deadline_s)),
            tags=ctx.tags({"mlops-version": version}),
            opts=ctx.opts(
                depends_on=[role.policy, *package.objects, *images.resources],
                custom_timeouts=pulumi.CustomTimeouts(create=duration(compute.deadline_s)),
                # Tags are metadata: a changed tag must not replace (re-run) the job.
                ignore_changes=["tags", "tagsAll"],
                # The provider's delete (terraform-provider-aws, sagemaker/training_job.go:
                # deleteTrainingJobVPCENIs) detaches and deletes every network interface in
                # the job's security groups and subnets — the shared workloads group, so
                # other jobs', endpoints' and the tracking server's too. A replaced or
                # destroyed job is left as a record instead (SageMaker keeps finished jobs;
                # their interfaces are released when they end).
                retain_on_delete=True,
            ),
            region=scope.region_override,
        )
        return JobResult(job_name=name)
