"""SageMaker training job: one run per version, named by the version, MLflow wired in.

Children of the ``TrainingJob`` component ``<name>``:

* ``<name>-code-*`` / ``<name>-manifest`` (+ local data): the version's package in the
  store under ``jobs/<job>/<version>/`` (retained when replaced: versions are immutable).
* ``<name>-role`` (+ policy): reads the package and the job's data, writes its outputs,
  checkpoints and MLflow artifacts, pulls its image, logs; nothing else.
* ``<name>-tracking-password`` (basic-auth tracking servers only): the job's own copy.
* ``<name>``: ``SageMakerTrainingRun`` (``training_run.py``), the ``CreateTrainingJob``
  request of the version's job named ``<stack>-<job>-<version>``, sent at ``up``, which
  waits for the job. Every input derives from the version: an unchanged version never
  re-runs, a new one runs once; a failed attempt leaves the next ``up`` a fresh name
  (``...-r2``). Tag changes do not re-run training. Spot jobs checkpoint to
  ``.../checkpoints/``.
"""

from __future__ import annotations

import pulumi

from mlops_infra.backends.aws._compute import sagemaker_compute
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope, network_of
from mlops_infra.backends.aws._secrets import tracking_credentials
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws._training_request import s3_channel, training_request
from mlops_infra.backends.aws._workload import (
    job_hyperparameters,
    publish_package,
    tracking_environment,
    workload_images,
    workload_role,
)
from mlops_infra.backends.aws.options import SageMakerJobOptions
from mlops_infra.backends.aws.training_run import (
    ATTEMPT_SUFFIX_ROOM,
    NAME_LIMIT,
    SageMakerTrainingRun,
)
from mlops_infra.outputs import concat
from mlops_infra.resources import BuildContext, JobResult, TrainingJobArgs, TrainingJobBackend
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest

__all__ = ["SageMakerTrainingJob", "job_name"]


def job_name(stack: str, job: str, version: str) -> str:
    """``<stack>-<job>-<version>``, leaving a later attempt's ``-r<n>`` within 63 characters.

    The version is kept whole; the head is shortened (with a hash) when it must be.
    """
    room = NAME_LIMIT - len(ATTEMPT_SUFFIX_ROOM) - len(version) - 1
    head = physical_name(stack, job, max_length=room)
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
        outputs = concat(package.root, "output/")
        checkpoints = concat(package.root, "checkpoints/")
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
        bucket_uri = concat("s3://", store.bucket, "/")
        request = training_request(
            image=image,
            role_arn=role.arn,
            compute=compute,
            volume_size_gib=options.volume_size_gib,
            kms_key=store.key_arn,
            channels=[s3_channel(channel, uri) for channel, uri in package.channels.items()],
            output_path=concat(bucket_uri, outputs),
            checkpoint_uri=concat(bucket_uri, checkpoints),
            hyperparameters=hyperparameters,
            environment=environment,
            network=network,
        )
        run = SageMakerTrainingRun(
            ctx.child_name(),
            {
                "job_name": name,
                "request": request,
                "region": scope.region_override,
                "timeout_s": compute.deadline_s,
                "tags": ctx.tags({"mlops-version": version}),
            },
            opts=ctx.opts(depends_on=[role.policy, *package.objects, *images.resources]),
        )
        return JobResult(job_name=run.training_job_name)
