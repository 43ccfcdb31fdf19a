"""A pipeline spec's DAG compiled to a SageMaker pipeline definition (schema ``2020-12-01``).

Each step is a ``Training`` step running the step entry point on the version's package:
channel ``code`` (the component files), one channel per data reference, one per ancestor
step (its ``ModelArtifacts``, i.e. what it left in ``/opt/ml/model``): like the local
runner, a step may read the outputs of any step it transitively depends on. Outputs and spot
checkpoints go under ``runs/<execution id>/<step>/`` of the package. ``retries`` become
retry policies for capacity and internal errors (a failing component is not retried).

The definition holds Pulumi Outputs (role, image, URIs); serialize it with
``pulumi.Output.json_dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from mlops_infra.backends.aws._compute import SageMakerCompute
from mlops_infra.backends.aws._contract import (
    HP_COMPONENT,
    HP_EXECUTION,
    HP_FINAL,
    HP_INPUTS,
    HP_PARAMS,
    HP_STEP,
    step_channel,
)
from mlops_infra.backends.aws._scope import WorkloadNetwork
from mlops_infra.backends.aws._training_request import s3_channel, training_request
from mlops_infra.specs import PipelineSpec

__all__ = ["DEFINITION_VERSION", "Json", "StepPlan", "compile_definition", "step_job_conditions"]

# Any: the definition is JSON whose values mix plain data, Pulumi Outputs and SageMaker's
# own property references ({"Get": ...}).
Json = dict[str, Any]
"""A JSON object of the definition."""

DEFINITION_VERSION = "2020-12-01"
"""SageMaker pipeline definition schema version."""

_EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
_RETRYABLE = [
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.RESOURCE_LIMIT",
]


@dataclass(frozen=True)
class StepPlan:
    """How one step runs: its compute and image.

    Attributes:
        compute: Instance type, count, spot and timeouts.
        image: Container image.
    """

    compute: SageMakerCompute
    image: pulumi.Input[str]


def _join(*values: object) -> Json:
    return {"Std:Join": {"On": "", "Values": list(values)}}


def step_job_conditions(
    plans: Sequence[StepPlan],
    *,
    kms_key: pulumi.Input[str | None],
    network: WorkloadNetwork | None,
) -> pulumi.Output[dict[str, dict[str, Any]]]:
    """IAM conditions that hold the pipeline role to the training jobs its steps request.

    The role is every step's and may pass itself, so without conditions it could start any
    training job named ``pipelines-*``. These pin what :func:`compile_definition` puts in
    each step's request: instance types, the longest run, the output key and the volume
    key (where the instance type takes one), and the VPC (subnets and security groups, and
    that there is one). Condition keys of ``CreateTrainingJob``: Service Authorization
    Reference, list_amazonsagemaker.html; multi-valued keys take ``ForAllValues`` and a
    ``Null`` check, since ``ForAllValues`` alone also matches a request without the key
    (IAM User Guide, reference_policies_condition-single-vs-multi-valued-context-keys).
    """
    computes = [plan.compute for plan in plans]
    subnets = network.subnet_ids if network is not None else None
    groups = network.security_group_ids if network is not None else None

    def build(values: list[Any]) -> dict[str, dict[str, Any]]:
        key, subnet_ids, group_ids = values
        conditions: dict[str, dict[str, Any]] = {
            "ForAllValues:StringEquals": {
                "sagemaker:InstanceTypes": sorted({c.instance_type for c in computes}),
            },
            "NumericLessThanEquals": {
                "sagemaker:MaxRuntimeInSeconds": max(c.max_runtime_s for c in computes),
            },
            "Null": {"sagemaker:InstanceTypes": "false"},
        }
        if key:
            conditions["ArnEquals"] = {"sagemaker:OutputKmsKey": key}
            # Local-NVMe instance types take no volume key: there it may only be absent.
            if all(c.volume_kms for c in computes):
                conditions["ArnEquals"]["sagemaker:VolumeKmsKey"] = key
            elif any(c.volume_kms for c in computes):
                conditions["ArnEqualsIfExists"] = {"sagemaker:VolumeKmsKey": key}
        if subnet_ids is not None:
            conditions["ForAllValues:StringEquals"].update(
                {
                    "sagemaker:VpcSubnets": list(subnet_ids),
                    "sagemaker:VpcSecurityGroupIds": list(group_ids),
                }
            )
            conditions["Null"].update(
                {
                    "sagemaker:VpcSubnets": "false",
                    "sagemaker:VpcSecurityGroupIds": "false",
                }
            )
        return conditions

    return pulumi.Output.all(kms_key, subnets, groups).apply(build)


def compile_definition(
    spec: PipelineSpec,
    *,
    plans: Mapping[str, StepPlan],
    role_arn: pulumi.Input[str],
    channels: Mapping[str, pulumi.Input[str]],
    runs_uri: pulumi.Input[str],
    hyperparameters: Mapping[str, str],
    environment: Mapping[str, pulumi.Input[str]],
    kms_key: pulumi.Input[str | None],
    network: WorkloadNetwork | None,
    volume_size_gib: int,
) -> Json:
    """Returns the definition of ``spec``'s steps, in dependency order.

    Args:
        spec: The pipeline.
        plans: Step name → compute and image.
        role_arn: Role of the pipeline and its jobs.
        channels: Channels every step gets (code, data).
        runs_uri: ``s3://`` URI under which each execution writes its outputs.
        hyperparameters: Settings and lineage every step carries (the step adds its own).
        environment: Environment of every step (the step adds its own).
        kms_key: Key for outputs and volumes.
        network: Private network to run in, if any.
        volume_size_gib: EBS volume per instance.
    """
    steps: list[Json] = []
    needed = {upstream for step in spec.steps for upstream in step.depends_on}
    for step in spec.ordered_steps():
        plan = plans[step.name]
        compute = plan.compute
        upstreams = spec.ancestors(step.name)
        arguments = training_request(
            image=plan.image,
            role_arn=role_arn,
            compute=compute,
            volume_size_gib=volume_size_gib,
            kms_key=kms_key,
            channels=[
                *(s3_channel(name, uri) for name, uri in channels.items()),
                *(
                    s3_channel(
                        step_channel(upstream),
                        {"Get": f"Steps.{upstream}.ModelArtifacts.S3ModelArtifacts"},
                    )
                    for upstream in upstreams
                ),
            ],
            output_path=_join(runs_uri, _EXECUTION_ID, f"/{step.name}/output"),
            checkpoint_uri=_join(runs_uri, _EXECUTION_ID, f"/{step.name}/checkpoints"),
            hyperparameters={
                **hyperparameters,
                HP_COMPONENT: step.component,
                HP_STEP: step.name,
                HP_EXECUTION: _EXECUTION_ID,
                HP_INPUTS: json.dumps(upstreams),
                HP_PARAMS: json.dumps({**spec.parameters, **step.parameters}, sort_keys=True),
                **({HP_FINAL: "true"} if step.name not in needed else {}),
            },
            environment={**environment, **step.environment_variables},
            network=network,
        )
        entry: Json = {"Name": step.name, "Type": "Training", "Arguments": arguments}
        if step.depends_on:
            entry["DependsOn"] = list(step.depends_on)
        if step.retries:
            entry["RetryPolicies"] = [
                {
                    "ExceptionType": _RETRYABLE,
                    "IntervalSeconds": 60,
                    "BackoffRate": 2.0,
                    "MaxAttempts": step.retries,
                }
            ]
        steps.append(entry)
    return {
        "Version": DEFINITION_VERSION,
        "Metadata": {},
        "Parameters": [],
        # Null turns SageMaker Experiments off (what the SageMaker Python SDK sends for
        # `pipeline_experiment_config=None`): MLflow tracks every run, and an experiment
        # config would make the service create an experiment and a trial per execution
        # with the pipeline role, which would then need sagemaker:CreateExperiment,
        # CreateTrial and AssociateTrialComponent.
        "PipelineExperimentConfig": None,
        "Steps": steps,
    }
