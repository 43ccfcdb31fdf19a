"""AWS Batch training job: a job definition per version on a Batch GPU pool.

Children of the ``TrainingJob`` component ``<name>``: the version's package (as for the
SageMaker flavor), ``<name>-role`` (the job's role: package, outputs, MLflow, nothing else),
and ``<name>`` ``batch.JobDefinition`` named ``<stack>-<job>-<version>``.

pulumi_aws 7.51.1 has no resource that *submits* a Batch job, so this flavor registers the
immutable, versioned definition and leaves submission to the caller:
``aws batch submit-job --job-queue <cluster id> --job-definition <job_name> --job-name <job_name>``
(a CI step, or a scheduler). Multi-node (``nodes > 1``) jobs are not supported here; use the
``sagemaker`` flavor for distributed training.
"""

from __future__ import annotations

import json

import pulumi
from pulumi_aws import batch

from mlops_infra.backends.aws._contract import (
    ENTRYPOINT,
    HYPERPARAMETERS_ENV,
    PACKAGE_ENV,
)
from mlops_infra.backends.aws._iam import kms_use, s3_read, s3_write, service_role
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws._secrets import tracking_credentials
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws._workload import (
    job_hyperparameters,
    mlflow_statement,
    publish_package,
    tracking_environment,
    workload_images,
)
from mlops_infra.backends.aws.batch_cluster import EC2_SHAPES
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.backends.aws.training_job import job_name
from mlops_infra.errors import BackendError
from mlops_infra.outputs import concat
from mlops_infra.resources import BuildContext, JobResult, TrainingJobArgs, TrainingJobBackend
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest

__all__ = ["BatchTrainingJob"]

_MEMORY_SHARE = 0.85  # the ECS agent and the OS keep the rest of a node's memory


class BatchTrainingJob(TrainingJobBackend):
    """Registers the version's Batch job definition (see the module docstring)."""

    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Publishes the package and registers the job definition of ``manifest.version``."""
        cluster = ctx.args.cluster
        if cluster is None or cluster.instance_type not in EC2_SHAPES:
            msg = (
                f"{ctx.name}: flavor batch runs on a cluster of flavor batch; name one in cluster:"
            )
            raise BackendError(msg)
        if spec.nodes > 1:
            msg = f"{ctx.name}: multi-node Batch jobs are not supported; use flavor: sagemaker"
            raise BackendError(msg)
        vcpus, memory_gib = EC2_SHAPES[cluster.instance_type]
        scope = AwsScope.current(ctx.target.region, ctx.component)
        store = StoreLocation.of(ctx.args.store, scope)
        foundation = ctx.args.foundation
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
        outputs = concat(package.root, "output/")
        password_secret, password_access = tracking_credentials(
            ctx, scope, ctx.args.tracking, foundation.encryption_key if foundation else None
        )
        mlflow = mlflow_statement(ctx.args.tracking)
        role = service_role(
            ctx,
            "role",
            "ecs-tasks.amazonaws.com",
            scope,
            [
                *s3_read(store.bucket_arn, [package.root], sid="Package"),
                *s3_write(store.bucket_arn, [outputs, store.key(MLFLOW_PREFIX)], sid="Outputs"),
                *kms_use(store.key_arns),
                *[
                    s
                    for i, (bucket, prefix) in enumerate(package.external)
                    for s in s3_read(scope.global_arn("s3", bucket), [prefix], sid=f"Data{i}")
                ],
                mlflow,
                *password_access,
            ],
            description=f"Batch training job {spec.name}",
        )
        hyperparameters = job_hyperparameters(
            ctx, manifest, spec, version=version, data=package.data, execution=name
        )
        environment: dict[str, pulumi.Input[str]] = {
            **spec.environment_variables,
            **tracking_environment(ctx.args.tracking, password_secret),
            PACKAGE_ENV: package.uri,
            HYPERPARAMETERS_ENV: json.dumps(hyperparameters, sort_keys=True),
            "MLOPS_ROOT": "/tmp/mlops",  # noqa: S108 - scratch space inside the container
        }
        resources = [
            {"type": "VCPU", "value": str(vcpus)},
            {"type": "MEMORY", "value": str(int(memory_gib * 1024 * _MEMORY_SHARE))},
        ]
        if cluster.gpus_per_node:
            resources.append({"type": "GPU", "value": str(cluster.gpus_per_node)})
        container = {
            "image": image,
            "command": list(ENTRYPOINT),
            "jobRoleArn": role.arn,
            "resourceRequirements": resources,
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "readonlyRootFilesystem": False,
            "privileged": False,
        }
        batch.JobDefinition(
            ctx.child_name(),
            name=name,
            type="container",
            platform_capabilities=["EC2"],
            container_properties=pulumi.Output.json_dumps(container),
            retry_strategy=batch.JobDefinitionRetryStrategyArgs(attempts=3 if cluster.spot else 1),
            timeout=batch.JobDefinitionTimeoutArgs(attempt_duration_seconds=spec.timeout_s),
            propagate_tags=True,
            tags=ctx.tags({"mlops-version": version}),
            opts=ctx.opts(depends_on=[role.policy, *package.objects, *images.resources]),
            region=scope.region_override,
        )
        return JobResult(job_name=name)
