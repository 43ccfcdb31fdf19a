"""Pipelines on GCP: an immutable package in GCS, a Cloud Workflows DAG, Cloud Scheduler.

* The version's package (component code, manifest, local data) is uploaded once under
  ``pipelines/<name>/<version>/`` and kept when newer versions come (rollback).
* The workflow runs the steps in dependency order, each a Vertex AI CustomJob on its
  cluster's machine shape, under the pipeline's runner identity; the workflow has its
  own identity, allowed to submit Vertex AI jobs and to act as the runner only.
* ``run_on_change``: ``pulumi up`` starts one execution of a new version (never for a
  pinned older one: rolling back does not retrain), from the resource ``<pipeline>-run``
  keyed by the version (:mod:`._run`: idempotent, adopts a run started before a crash).
  With ``wait_for_run`` it waits for the execution and returns the model version it
  registered, which the endpoint's gate decides on in the same ``up``.
* ``schedule``: a Cloud Scheduler job starts executions, under an identity allowed to
  start workflows only.

A pinned ``version`` runs that version's package with the step graph of the current spec.
"""

from __future__ import annotations

import pulumi
from pulumi_gcp import cloudscheduler, projects, serviceaccount, workflows

from mlops_infra.backends.gcp._custom_role import custom_role
from mlops_infra.backends.gcp._iam import bucket_name, service_account
from mlops_infra.backends.gcp._naming import fmt, gcp_labels, physical_name
from mlops_infra.backends.gcp._package import Package, package_root, publish_package
from mlops_infra.backends.gcp._run import PipelineRun
from mlops_infra.backends.gcp._scope import current_project_id, project_id, region_of
from mlops_infra.backends.gcp._vertex import Machine, custom_job_body
from mlops_infra.backends.gcp._workflow import (
    EXECUTION_ID,
    WORKFLOW_PERMISSIONS,
    CompiledStep,
    executions_url,
    workflow_definition,
)
from mlops_infra.backends.gcp._workload import (
    MlflowTarget,
    Workload,
    lineage_tags,
    vertex_network,
    workload_identity,
    workload_images,
)
from mlops_infra.backends.gcp.options import WorkflowsPipelineOptions
from mlops_infra.images import WorkloadImages
from mlops_infra.resources import (
    BuildContext,
    PipelineArgs,
    PipelineBackend,
    PipelineResult,
    waits_for_run,
)
from mlops_infra.specs import PipelineSpec
from mlops_infra.versioning import VersionManifest

__all__ = ["SCHEDULER_PERMISSIONS", "WorkflowsPipeline", "ancestors"]

_CPU_MACHINE = "n1-standard-8"
_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

SCHEDULER_PERMISSIONS = ("workflows.executions.create",)
"""What the schedule's identity needs: Cloud Scheduler only POSTs ``executions.create``
(https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create)."""


def ancestors(spec: PipelineSpec, step: str) -> list[str]:
    """Returns every step ``step`` depends on, directly or not, in declaration order.

    All of their outputs are the step's inputs (as on the local runner).
    """
    edges = {s.name: s.depends_on for s in spec.steps}
    found: set[str] = set()
    pending = list(edges[step])
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(edges[name])
    return [s.name for s in spec.steps if s.name in found]


class WorkflowsPipeline(PipelineBackend):
    """The pipeline as a Cloud Workflows workflow of Vertex AI CustomJobs."""

    def create(
        self, ctx: BuildContext[PipelineArgs], spec: PipelineSpec, manifest: VersionManifest
    ) -> PipelineResult:
        """Uploads the package, deploys the workflow, starts it on change, schedules it."""
        options = ctx.options_as(WorkflowsPipelineOptions)
        region = region_of(ctx)
        args = ctx.args
        deployed = spec.version or manifest.version
        current = deployed == manifest.version
        labels = gcp_labels(ctx.tags({"mlops-version": deployed}))
        package = publish_package(
            ctx,
            bucket=bucket_name(args.store.uri),
            kind="pipeline",
            name=spec.name,
            version=deployed,
            manifest=manifest,
            source_dir=ctx.target.project_dir / spec.source_dir,
            data=spec.data,
            upload=current,
        )
        runner = workload_identity(
            ctx,
            purpose=f"steps of pipeline {spec.name}",
            region=region,
            store=args.store,
            tracking=args.tracking,
            foundation=args.foundation,
            tracking_invoker=options.tracking_invoker,
            package_root=package_root("pipeline", spec.name),
            mlflow=MlflowTarget("pipeline", spec.name, spec.registered_model),
        )
        images = workload_images(
            ctx, manifest, foundation=args.foundation, store_uri=args.store.uri,
            source_dir=ctx.target.project_dir / spec.source_dir,
            named=[step.image or spec.image or options.default_image for step in spec.steps],
        )  # fmt: skip
        steps = self._steps(
            ctx,
            spec,
            manifest=manifest,
            deployed=deployed,
            package=package,
            runner=runner,
            options=options,
            images=images,
        )
        orchestrator = service_account(ctx, "workflow", f"runs pipeline {spec.name}")
        grants = self._orchestrator_grants(ctx, spec, orchestrator, runner.account)
        definition = workflow_definition(
            steps, region=region, version=deployed, poll_interval_s=options.poll_interval_s
        )
        workflow = workflows.Workflow(
            ctx.child_name(),
            name=physical_name(ctx.name, max_length=64, salt=ctx.stack_name),
            region=region,
            project=project_id(),
            description=f"pipeline {spec.name} version {deployed} (mlops-infra)",
            service_account=orchestrator.email,
            source_contents=pulumi.Output.json_dumps(definition),
            call_log_level=options.call_log_level,
            execution_history_level="EXECUTION_HISTORY_DETAILED",
            # Stateless: the provider's own flag (on by default) would make destroy fail.
            deletion_protection=False,
            labels=labels,
            opts=ctx.opts(
                depends_on=[*grants, *runner.depends_on, *package.objects, *images.resources]
            ),
        )
        model_version: pulumi.Output[str | None] | None = None
        if spec.run_on_change and current:
            wait = waits_for_run(spec, ctx.target)
            run = PipelineRun(
                ctx.child_name("run"),
                workflow=workflow.id,
                version=deployed,
                wait=wait,
                timeout_s=spec.run_timeout_s,
                tracking_url=args.tracking.url,
                model=spec.registered_model,
                username=args.tracking.username,
                password=args.tracking.password,
                client_auth=args.tracking.client_auth,
                opts=ctx.opts(depends_on=[workflow]),
            )
            model_version = run.model_version if wait else None
        if spec.schedule is not None:
            self._schedule(ctx, spec, workflow, region)
        return PipelineResult(
            pipeline_id=workflow.id,
            package_uri=package.uri,
            deployed_version=deployed,
            model_version=model_version,
        )

    @staticmethod
    def _steps(
        ctx: BuildContext[PipelineArgs],
        spec: PipelineSpec,
        *,
        manifest: VersionManifest,
        deployed: str,
        package: Package,
        runner: Workload,
        options: WorkflowsPipelineOptions,
        images: WorkloadImages,
    ) -> list[CompiledStep]:
        ordered = spec.ordered_steps()
        network = vertex_network(ctx.args.foundation)
        tags = lineage_tags(ctx, manifest)
        tags["mlops.pipeline_version"] = deployed
        compiled: list[CompiledStep] = []
        for index, step in enumerate(ordered):
            cluster = ctx.args.clusters.get(step.cluster) if step.cluster else None
            machine = Machine.of(
                cluster, nodes=step.nodes, spot=None, cpu_machine_type=_CPU_MACHINE
            )
            step_json = pulumi.Output.json_dumps(
                {
                    "pipeline": spec.name,
                    "step": step.name,
                    "version": deployed,
                    "component": step.component,
                    "model_name": spec.registered_model,
                    "params": {**spec.parameters, **step.parameters},
                    "data": dict(package.data),
                    "inputs_from": ancestors(spec, step.name),
                    "runs_dir": package.runs_dir,
                    "code_dir": package.code_dir,
                    "tags": tags,
                    "gpus": machine.accelerator_count * machine.replicas,
                    "final": index == len(ordered) - 1,
                }
            )
            env: dict[str, pulumi.Input[str]] = {
                **step.environment_variables,
                **runner.env,
                "MLOPS_STEP": step_json,
                "MLOPS_EXECUTION_ID": EXECUTION_ID,
            }
            body = custom_job_body(
                display_name=f"{spec.name}-{step.name}-{deployed}",
                machine=machine,
                image=images.of(step.image or spec.image or options.default_image),
                env=env,
                service_account=runner.account.email,
                timeout_s=step.timeout_s,
                output_uri=fmt("{}/output/{}", package.uri, step.name),
                network=network,
                labels=gcp_labels(ctx.tags({"mlops-version": deployed, "mlops-step": step.name})),
            )
            compiled.append(CompiledStep(name=step.name, body=body, max_attempts=step.retries + 1))
        return compiled

    @staticmethod
    def _orchestrator_grants(
        ctx: BuildContext[PipelineArgs],
        spec: PipelineSpec,
        orchestrator: serviceaccount.Account,
        runner: serviceaccount.Account,
    ) -> list[pulumi.Resource]:
        project = current_project_id()
        # CustomJobs have no resource-level grant: a project custom role with only the calls
        # the workflow makes, rather than aiplatform.user (issue 14 item 9).
        jobs = custom_role(
            ctx,
            "workflow-jobs",
            WORKFLOW_PERMISSIONS,
            f"submits and polls the Vertex AI custom jobs of pipeline {spec.name}",
        )
        return [
            jobs,
            projects.IAMMember(
                ctx.child_name("workflow-vertex"),
                project=project,
                role=jobs.name,
                member=orchestrator.member,
                opts=ctx.opts(),
            ),
            projects.IAMMember(
                ctx.child_name("workflow-logs"),
                project=project,
                role="roles/logging.logWriter",
                member=orchestrator.member,
                opts=ctx.opts(),
            ),
            # Jobs run as the runner; the workflow may hand out that identity and no other.
            serviceaccount.IAMMember(
                ctx.child_name("workflow-acts-as-runner"),
                service_account_id=runner.name,
                role="roles/iam.serviceAccountUser",
                member=orchestrator.member,
                opts=ctx.opts(),
            ),
        ]

    @staticmethod
    def _schedule(
        ctx: BuildContext[PipelineArgs],
        spec: PipelineSpec,
        workflow: workflows.Workflow,
        region: str,
    ) -> cloudscheduler.Job:
        schedule = spec.schedule
        assert schedule is not None  # noqa: S101 - checked by the caller
        scheduler = service_account(ctx, "scheduler", f"starts pipeline {spec.name}")
        # Workflows has no per-workflow IAM: starting executions is granted on the project,
        # through a custom role holding only that (not workflows.invoker's get/list/cancel).
        starts = custom_role(
            ctx,
            "scheduler-starts",
            SCHEDULER_PERMISSIONS,
            f"starts executions of pipeline {spec.name} on its schedule",
        )
        invoker = projects.IAMMember(
            ctx.child_name("scheduler-invoker"),
            project=current_project_id(),
            role=starts.name,
            member=scheduler.member,
            opts=ctx.opts(),
        )
        return cloudscheduler.Job(
            ctx.child_name("schedule"),
            name=physical_name(ctx.child_name("schedule"), max_length=60, salt=ctx.stack_name),
            region=region,
            project=project_id(),
            description=f"runs pipeline {spec.name} on '{schedule.cron}' ({schedule.timezone})",
            schedule=schedule.cron,
            time_zone=schedule.timezone,
            paused=not schedule.enabled,
            attempt_deadline="320s",
            retry_config=cloudscheduler.JobRetryConfigArgs(retry_count=1),
            http_target=cloudscheduler.JobHttpTargetArgs(
                http_method="POST",
                uri=workflow.id.apply(executions_url),
                # base64 of {"argument": "{}"}: an execution without arguments.
                body="eyJhcmd1bWVudCI6ICJ7fSJ9",
                headers={"Content-Type": "application/json"},
                oauth_token=cloudscheduler.JobHttpTargetOauthTokenArgs(
                    service_account_email=scheduler.email, scope=_SCOPE
                ),
            ),
            opts=ctx.opts(depends_on=[invoker]),
        )
