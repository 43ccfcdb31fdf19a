"""SageMaker pipeline: the DAG compiled to a definition over an immutable, versioned package.

Children of the ``Pipeline`` component ``<name>``:

* ``<name>-code-*``, ``<name>-manifest`` (+ local data): the package of the current version
  under ``pipelines/<pipeline>/<version>/`` (none when ``version`` pins an older, already
  deployed one: rollback redeploys it without uploading or retraining).
* ``<name>-role`` (+ policy): the pipeline's execution role, also passed to its step jobs
  (``training-job/pipelines-*`` only); ``<name>-tracking-password`` for basic-auth servers.
* ``<name>``: ``sagemaker.Pipeline`` named ``<stack>-<pipeline>``; a new version updates its
  definition in place.
* With ``schedule``: ``<name>-scheduler`` role (start this pipeline, nothing else) and
  ``<name>-schedule``, an EventBridge Scheduler schedule in the spec's time zone.

* ``<name>-run`` (with ``run_on_change``, the default):
  :class:`~mlops_infra.backends.aws.pipeline_run.SageMakerPipelineRun`, exactly one
  execution per deployed version (replaced when the version changes; an interrupted or
  repeated ``up`` adopts the existing execution). With ``wait_for_run`` (default: the
  tier's, on in local and development) ``up`` waits for it and returns the model version it
  registered as ``model_version``, which the endpoint's gate then decides on.
"""

from __future__ import annotations

import pulumi
from pulumi_aws import sagemaker

from mlops_infra.backends.aws._compute import sagemaker_compute
from mlops_infra.backends.aws._iam import service_role, statement
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._schedule import eventbridge_cron
from mlops_infra.backends.aws._scope import AwsScope, network_of
from mlops_infra.backends.aws._secrets import tracking_credentials
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws._workload import (
    lineage_hyperparameters,
    publish_package,
    tracking_environment,
    workload_images,
    workload_role,
)
from mlops_infra.backends.aws.mlflow_auth import CLIENT_AUTH
from mlops_infra.backends.aws.options import SageMakerPipelineOptions
from mlops_infra.backends.aws.pipeline_definition import (
    StepPlan,
    compile_definition,
    step_job_conditions,
)
from mlops_infra.backends.aws.pipeline_run import SageMakerPipelineRun
from mlops_infra.outputs import concat
from mlops_infra.resources import BuildContext, PipelineArgs, PipelineBackend, PipelineResult
from mlops_infra.specs import PipelineSpec, ScheduleSpec, wait_for_run_of
from mlops_infra.versioning import VersionManifest

__all__ = ["SageMakerPipeline"]


class SageMakerPipeline(PipelineBackend):
    """Deploys the version's package and its SageMaker pipeline (and schedule)."""

    def create(
        self, ctx: BuildContext[PipelineArgs], spec: PipelineSpec, manifest: VersionManifest
    ) -> PipelineResult:
        """Declares the package, the role, the pipeline and its schedule."""
        options = ctx.options_as(SageMakerPipelineOptions)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        store = StoreLocation.of(ctx.args.store, scope)
        foundation = ctx.args.foundation
        network = network_of(foundation)
        deployed = spec.version or manifest.version
        source_dir = ctx.target.project_dir / spec.source_dir
        images = workload_images(
            ctx, scope, store, manifest,
            foundation=foundation, source_dir=source_dir,
            named=[step.image or spec.image for step in spec.steps],
        )  # fmt: skip
        plans = {
            step.name: StepPlan(
                compute=sagemaker_compute(
                    f"{ctx.name} step {step.name}",
                    ctx.args.clusters.get(step.cluster) if step.cluster else None,
                    nodes=step.nodes,
                    spot=None,
                    timeout_s=step.timeout_s,
                    max_wait_factor=options.max_wait_factor,
                ),
                image=images.of(step.image or spec.image),
            )
            for step in spec.steps
        }
        package = publish_package(
            ctx,
            scope,
            store,
            manifest,
            kind="pipelines",
            version=deployed,
            source_dir=source_dir,
            data=spec.data,
        )
        runs = concat(package.root, "runs/")
        password_secret, password_access = tracking_credentials(
            ctx, scope, ctx.args.tracking, foundation.encryption_key if foundation else None
        )
        run_step_jobs = statement(
            ["sagemaker:CreateTrainingJob"],
            [scope.arn("sagemaker", "training-job/pipelines-*")],
            sid="RunStepJobs",
        )
        run_step_jobs["Condition"] = step_job_conditions(
            list(plans.values()), kms_key=store.key_arn, network=network
        )
        role = workload_role(
            ctx,
            scope,
            store,
            package=package,
            write_prefixes=[runs],
            images=[plan.image for plan in plans.values()],
            tracking=ctx.args.tracking,
            extra=[
                run_step_jobs,
                statement(
                    ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                     "sagemaker:AddTags"],
                    [scope.arn("sagemaker", "training-job/pipelines-*")],
                    sid="TrackStepJobs",
                ),
                *password_access,
            ],
            network=network,
            description=f"SageMaker pipeline {spec.name} and its steps",
            pass_self=True,
        )  # fmt: skip
        definition = compile_definition(
            spec,
            plans=plans,
            role_arn=role.arn,
            channels=package.channels,
            runs_uri=concat("s3://", store.bucket, "/", runs),
            hyperparameters=lineage_hyperparameters(
                ctx,
                manifest,
                pipeline=spec.name,
                version=deployed,
                model_name=spec.registered_model,
                params={},
                data=package.data,
            ),
            environment=tracking_environment(ctx.args.tracking, password_secret),
            kms_key=store.key_arn,
            network=network,
            volume_size_gib=options.volume_size_gib,
        )
        name = physical_name(ctx.stack_name, spec.name, max_length=256)
        pipeline = sagemaker.Pipeline(
            ctx.child_name(),
            pipeline_name=name,
            pipeline_display_name=name,
            pipeline_description=f"{spec.name} version {deployed} (mlops-infra)",
            role_arn=role.arn,
            pipeline_definition=pulumi.Output.json_dumps(definition, sort_keys=True),
            parallelism_configuration=sagemaker.PipelineParallelismConfigurationArgs(
                max_parallel_execution_steps=options.max_parallel_steps
            ),
            tags=ctx.tags({"mlops-version": deployed}),
            opts=ctx.opts(depends_on=[role.policy, *package.objects, *images.resources]),
            region=scope.region_override,
        )
        if spec.schedule is not None:
            key = foundation.encryption_key if foundation else store.key_arn
            self._schedule(ctx, scope, spec.name, spec.schedule, pipeline, key=key)
        run = (
            self._run(ctx, scope, spec, version=deployed, pipeline=pipeline)
            if spec.run_on_change
            else None
        )
        return PipelineResult(
            pipeline_id=pipeline.arn,
            package_uri=package.uri,
            deployed_version=deployed,
            model_version=run.model_version if run else None,
        )

    @staticmethod
    def _run(
        ctx: BuildContext[PipelineArgs],
        scope: AwsScope,
        spec: PipelineSpec,
        *,
        version: str,
        pipeline: sagemaker.Pipeline,
    ) -> SageMakerPipelineRun:
        tracking = ctx.args.tracking
        return SageMakerPipelineRun(
            ctx.child_name("run"),
            {
                "pipeline_name": pipeline.pipeline_name,
                "region": scope.region,
                "version": version,
                "wait": wait_for_run_of(spec, ctx.target.profile),
                "timeout_s": spec.run_timeout_s,
                "model_name": spec.registered_model,
                "tracking_url": tracking.url,
                "username": tracking.username,
                "password": tracking.password,
                # The run's model lookup authenticates like the gate (SigV4 on SageMaker
                # MLflow); the AWS hook also answers a tracking reference without one.
                "client_auth": tracking.client_auth or CLIENT_AUTH,
            },
            ctx.opts(
                depends_on=[pipeline],
                custom_timeouts=pulumi.CustomTimeouts(create="24h"),
            ),
        )

    @staticmethod
    def _schedule(
        ctx: BuildContext[PipelineArgs],
        scope: AwsScope,
        pipeline_name: str,
        schedule: ScheduleSpec,
        pipeline: sagemaker.Pipeline,
        *,
        key: pulumi.Input[str | None],
    ) -> None:
        from pulumi_aws import scheduler  # noqa: PLC0415 - only stacks with a schedule load it

        # The schedule is encrypted with the stack's key; its execution role decrypts it
        # when it invokes the target (scheduler/latest/UserGuide/encryption-rest.html).
        decrypt = statement(["kms:Decrypt"], [], sid="DecryptSchedule")
        decrypt["Resource"] = pulumi.Output.from_input(key).apply(lambda k: [k] if k else [])
        invoker = service_role(
            ctx,
            "scheduler",
            "scheduler.amazonaws.com",
            scope,
            [
                statement(["sagemaker:StartPipelineExecution"], [pipeline.arn],
                          sid="StartPipeline"),
                decrypt,
            ],
            description=f"EventBridge Scheduler: start pipeline {pipeline_name}",
        )  # fmt: skip
        scheduler.Schedule(
            ctx.child_name("schedule"),
            description=f"run pipeline {pipeline_name} ({schedule.cron} {schedule.timezone})",
            schedule_expression=eventbridge_cron(schedule.cron),
            schedule_expression_timezone=schedule.timezone,
            state="ENABLED" if schedule.enabled else "DISABLED",
            flexible_time_window=scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            kms_key_arn=key,
            target=scheduler.ScheduleTargetArgs(
                arn=pipeline.arn,
                role_arn=invoker.arn,
                retry_policy=scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                ),
            ),
            opts=ctx.opts(depends_on=[invoker.policy]),
            region=scope.region_override,
        )
