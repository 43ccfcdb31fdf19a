"""``SageMakerPipelineRun``: exactly one execution per pipeline version, started at ``up``.

A dynamic resource ``<pipeline>-run`` keyed by the pipeline version (a new version replaces
it). Create starts ``StartPipelineExecution`` with a ``ClientRequestToken`` and a display
name both derived from the pipeline and the version; before starting, it lists the
pipeline's executions and adopts one with that display name. So a repeated ``up``, or an
``up`` killed while it waited and run again (the state never recorded the run), starts no
second execution of the same version. With ``wait`` it polls
``DescribePipelineExecution`` (progress lines on stderr, a timeout) and, once the execution
succeeded, finds the model version it registered in MLflow by the run's
``mlops.pipeline_version`` tag, returned as ``model_version``. ``refresh`` reads the
execution's state. Delete does nothing: executions are history, and a replaced version's
run is not stopped.

API reference: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StartPipelineExecution.html
(``ClientRequestToken``: 32-128 characters, "an idempotent operation completes no more than
once"), API_ListPipelineExecutions.html, API_DescribePipelineExecution.html.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.aws._api import AwsApi, progress
from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = [
    "SageMakerPipelineRun",
    "display_name",
    "read_run",
    "registered_model_version",
    "run_token",
    "start_run",
]

_DONE = frozenset({"Succeeded", "Failed", "Stopped", "CompletedWithFailures"})
_OUTPUTS = ("execution_arn", "status", "model_version", "failure_reason")
_REPLACES = ("pipeline_name", "version", "region")
_NOT_NAME = re.compile(r"[^a-zA-Z0-9-]+")


def run_token(pipeline: str, version: str) -> str:
    """The ``ClientRequestToken`` of the run of ``version`` (64 hex characters)."""
    return hashlib.sha256(f"{pipeline}/{version}".encode()).hexdigest()


def display_name(version: str) -> str:
    """The execution's display name: ``v<version>`` (SageMaker allows 82 characters)."""
    name = _NOT_NAME.sub("-", f"v{version}")[:82].rstrip("-")
    return re.sub(r"-{2,}", "-", name)


def _find(sm: Any, pipeline: str, name: str) -> str | None:
    pages = sm.get_paginator("list_pipeline_executions").paginate(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending"
    )
    for page in pages:
        for summary in page.get("PipelineExecutionSummaries", []):
            if summary.get("PipelineExecutionDisplayName") == name:
                return str(summary["PipelineExecutionArn"])
    return None


def _client_environment(props: Mapping[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    hook = props.get("client_auth")
    if hook:
        module, _, function = str(hook).partition(":")
        env.update(getattr(importlib.import_module(module), function)(props["tracking_url"]))
    if props.get("username") and props.get("password"):
        env["MLFLOW_TRACKING_USERNAME"] = str(props["username"])
        env["MLFLOW_TRACKING_PASSWORD"] = str(props["password"])
    return env


def registered_model_version(props: Mapping[str, Any]) -> str | None:
    """The newest version of ``model_name`` whose ``mlops.pipeline_version`` is ``version``.

    Calls the client-auth hook (``client_auth``, ``package.module:function``) first, as the
    gate does, so SageMaker MLflow requests are signed.
    """
    os.environ.update(_client_environment(props))
    from mlflow import MlflowClient  # noqa: PLC0415 - heavy; provider side only

    url = str(props["tracking_url"])
    client: Any = MlflowClient(tracking_uri=url, registry_uri=url)
    found = client.search_model_versions(
        f"name = '{props['model_name']}' and tags.`mlops.pipeline_version` = '{props['version']}'"
    )
    versions = sorted((int(v.version) for v in found), reverse=True)
    return str(versions[0]) if versions else None


def _describe(sm: Any, arn: str) -> tuple[str, str | None]:
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    return str(described["PipelineExecutionStatus"]), described.get("FailureReason") or None


def start_run(api: AwsApi, props: Mapping[str, Any]) -> dict[str, Any]:
    """Starts (or adopts) the run of ``version``; with ``wait``, waits and finds its model.

    Raises:
        RuntimeError: waiting, the execution failed or was stopped.
        TimeoutError: waiting, the execution did not finish within ``timeout_s`` (it goes on;
            the next ``up`` adopts it).
    """
    sm = api.client("sagemaker")
    pipeline, version = str(props["pipeline_name"]), str(props["version"])
    name = display_name(version)
    arn = _find(sm, pipeline, name)
    if arn is not None:
        progress(f"pipeline {pipeline} version {version}: run {arn} exists, adopted")
    else:
        arn = str(
            sm.start_pipeline_execution(
                PipelineName=pipeline,
                PipelineExecutionDisplayName=name,
                PipelineExecutionDescription=f"{pipeline} version {version}, started by pulumi up",
                ClientRequestToken=run_token(pipeline, version),
            )["PipelineExecutionArn"]
        )
        progress(f"pipeline {pipeline} version {version}: started run {arn}")
    status, reason = _describe(sm, arn)
    model_version: str | None = None
    if props.get("wait"):

        def poll() -> tuple[bool, str]:
            nonlocal status, reason
            status, reason = _describe(sm, arn)
            return status in _DONE, status

        api.wait(f"pipeline {pipeline} run {name}", poll, float(props.get("timeout_s") or 7200))
        if status != "Succeeded":
            msg = (
                f"pipeline {pipeline} version {version}: run {arn} {status}: "
                f"{reason or 'no reason given'}; another up does not start it again (retry it "
                "with aws sagemaker retry-pipeline-execution, or deploy a new version)"
            )
            raise RuntimeError(msg)
        model_version = registered_model_version(props)
        progress(f"pipeline {pipeline} version {version}: registered model version {model_version}")
    return {
        **{k: v for k, v in props.items() if not k.startswith("__")},
        "execution_arn": arn,
        "status": status,
        "model_version": model_version,
        "failure_reason": reason,
    }


def read_run(api: AwsApi, outs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs with the execution's state as SageMaker reports it now (``refresh``)."""
    status, reason = _describe(api.client("sagemaker"), str(outs["execution_arn"]))
    return {**outs, "status": status, "failure_reason": reason}


class _RunProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = start_run(AwsApi(region=props.get("region")), props)
        return CreateResult(id_=str(outs["execution_arn"]), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key, value in news.items()
            if not key.startswith("__") and key not in _OUTPUTS and olds.get(key) != value
        ]  # fmt: skip
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k in _REPLACES])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Same version (tracking or wait settings changed): the run stays what it is.
        return UpdateResult(outs={**news, **{k: olds.get(k) for k in _OUTPUTS}})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, read_run(AwsApi(region=props.get("region")), props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        del props  # executions are history; a replaced version's run is not stopped


class SageMakerPipelineRun(Resource, module="mlops", name="SageMakerPipelineRun"):
    """The execution of one pipeline version (see the module).

    Inputs: ``pipeline_name``, ``region``, ``version``, ``wait``, ``timeout_s``,
    ``model_name``, ``tracking_url``, ``username``/``password`` (basic auth, secret),
    ``client_auth`` (``package.module:function`` of the MLflow client-auth hook).
    """

    execution_arn: pulumi.Output[str]
    """ARN of the pipeline execution of this version."""

    status: pulumi.Output[str]
    """Its status when last read (``Executing``, ``Succeeded``, ``Failed`` …)."""

    model_version: pulumi.Output[str | None]
    """Model version the run registered (known when ``up`` waited for it)."""

    def __init__(
        self,
        name: str,
        inputs: Mapping[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the run ``name``."""
        props: dict[str, Any] = {**inputs, **dict.fromkeys(_OUTPUTS)}
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(_RunProvider(), name, props, options)
