"""SageMaker endpoint of the version the gate serves: image build → Model → config → Endpoint.

The component builds the gate (``<name>-gate``) and the registry alias (``<name>-alias``,
moved only to the version this backend confirms it serves). Against SageMaker MLflow the
machine running ``up`` needs the ``sagemaker-mlflow`` plugin (``aws`` extra; the tracking
reference's client-auth hook is :mod:`mlops_infra.backends.aws.mlflow_auth`). This
backend's children of the ``ServingEndpoint`` component ``<name>``:

* ``<name>-role`` (+ policy): the model may read MLflow artifacts, pull its image, log.
* ``<name>-errors``: a 5xx alarm on the endpoint; it rolls a bad deployment back.
* ``<name>-builder`` (+ role) and ``<name>-image``: the served version's serving image,
  built by CodeBuild with the model's dependencies inside (see
  :mod:`~mlops_infra.backends.aws.serving_image`), unless ``options.image`` names one.
* ``<name>-deployment``: :class:`~mlops_infra.backends.aws.endpoint_deployment.SageMakerDeployment`,
  a dynamic resource that at ``up`` creates the served version's ``Model`` (the MLflow
  serving image, SageMaker contract, with the model's artifacts mounted uncompressed from
  the store; network-isolated unless ``network_isolation: false``) and
  ``EndpointConfig`` (one variant ``primary``; the stack key on its volume where the
  instance has no local NVMe storage), then creates the endpoint ``<stack>-<endpoint>`` or
  updates it blue/green (with ``canary_percent`` the new fleet first takes that share for
  ``canary_wait_s``), waits, and confirms with ``DescribeEndpoint`` which version is live
  (after an alarm rollback, the previous one). It registers autoscaling between
  ``min_replicas`` (at least 1: real-time endpoints cannot scale to zero without inference
  components) and ``max_replicas`` on concurrent requests per instance.

When no version has passed the gate yet the deployment creates nothing: ``url`` and
``model_version`` are ``None`` and the gate's decision says why; the first ``up`` after a
version passes deploys it. A failing candidate keeps the served version.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_aws import cloudwatch

from mlops_infra.backends.aws._iam import (
    ecr_pull,
    ecr_repository_arn,
    kms_use,
    logs_write,
    s3_read,
    service_role,
    statement,
)
from mlops_infra.backends.aws._naming import has_instance_storage, physical_name
from mlops_infra.backends.aws._scope import AwsScope, network_of, registry_image
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws._workload import network_statements
from mlops_infra.backends.aws.endpoint_deployment import VARIANT, SageMakerDeployment
from mlops_infra.backends.aws.options import SageMakerEndpointOptions
from mlops_infra.backends.aws.serving_image import serving_image
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    FoundationRef,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import ServingEndpointSpec, min_replicas_of

__all__ = [
    "SCALING_METRIC",
    "SERVING_IMAGE_TAG",
    "VARIANT",
    "SageMakerEndpoint",
    "model_data_uri",
]

SERVING_IMAGE_TAG = "serving"
"""Tag prefix of the serving images the stack builds (``serving-<hash>``)."""


def repository_image_url(foundation: FoundationRef) -> pulumi.Output[str]:
    """The stack's ECR repository URL (``<account>.dkr.ecr.<region>.amazonaws.com/<name>``)."""
    return pulumi.Output.from_input(foundation.registry_url).apply(lambda u: str(u or ""))


SCALING_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
"""What endpoints scale on: concurrent requests per model, sampled every 10 s
(Application Auto Scaling's predefined metric; checked against botocore's model)."""
_DEPLOY_TIMEOUT_S = 5400
"""Longest wait for an endpoint to settle: the blue/green update's own limit (3600 s),
termination wait (300 s) and the canary wait, with margin."""


def model_data_uri(source: str | None, store_mlflow_uri: str, where: str) -> str | None:
    """The S3 prefix of the served model's artifacts (``mlflow-artifacts:`` resolved).

    ``None`` when nothing is served (no version has passed the gate yet: pending).

    Raises:
        BackendError: the artifacts are not in S3.
    """
    if not source:
        return None
    if source.startswith("mlflow-artifacts:"):
        path = source.removeprefix("mlflow-artifacts:").lstrip("/")
        source = store_mlflow_uri.rstrip("/") + "/" + path
    if not source.startswith("s3://"):
        msg = f"{where}: model artifacts at {source!r} are not in S3; SageMaker cannot load them"
        raise BackendError(msg)
    return source.rstrip("/") + "/"


class SageMakerEndpoint(ServingEndpointBackend):
    """Serves the version the promotion gate allows on a SageMaker real-time endpoint."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Declares the role, alarm, serving image build and the deployment of ``served``."""
        options = ctx.options_as(SageMakerEndpointOptions)
        offer = node_shape(ctx.target, spec, "serving")
        instance_type = (
            offer.instance_type if offer else spec.instance_type or options.cpu_instance_type
        )
        if not instance_type.startswith("ml."):
            msg = f"{ctx.name}: instance_type {instance_type!r} is not a SageMaker type (ml.*)"
            raise BackendError(msg)
        min_replicas = min_replicas_of(spec, ctx.target.profile)
        if min_replicas < 1:
            pulumi.log.warn(
                f"{ctx.name}: SageMaker real-time endpoints keep at least one instance; "
                "min_replicas 0 is raised to 1",
                ctx.component,
            )
            min_replicas = 1
        if spec.public:
            pulumi.log.warn(
                f"{ctx.name}: SageMaker endpoints are never anonymous: callers sign requests "
                "with AWS credentials allowed sagemaker:InvokeEndpoint on it",
                ctx.component,
            )
        foundation = ctx.args.foundation
        # The repository the endpoint pulls from: the user's image, or the stack's own.
        repository_image = options.image or registry_image(foundation, SERVING_IMAGE_TAG)
        if repository_image is None or foundation is None:
            msg = (
                f"{ctx.name}: set options.image (an MLflow serving image with the model's "
                "dependencies) or let the stack create its container registry"
            )
            raise BackendError(msg)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        store = StoreLocation.of(ctx.args.store, scope)
        network = network_of(foundation)
        name = physical_name(ctx.stack_name, spec.name)

        served_version = served.version
        mlflow_uri = store.s3_uri(MLFLOW_PREFIX)
        model_data = pulumi.Output.all(served.source, mlflow_uri).apply(
            lambda v: model_data_uri(v[0], str(v[1]), ctx.name)
        )
        statements = [
            *s3_read(store.bucket_arn, [store.key(MLFLOW_PREFIX)], sid="ModelArtifacts"),
            *kms_use(store.key_arns),
            *ecr_pull([ecr_repository_arn(repository_image, scope)]),
            *logs_write([scope.arn("logs", f"log-group:/aws/sagemaker/Endpoints/{name}")]),
            statement(
                ["cloudwatch:PutMetricData"],
                ["*"],
                sid="EndpointMetrics",
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
        ]
        if network is not None:
            statements += network_statements(network, scope)
        role = service_role(
            ctx, "role", "sagemaker.amazonaws.com", scope, statements,
            description=f"SageMaker endpoint {spec.name}: load and serve the model",
        )  # fmt: skip
        built = (
            None
            if options.image
            else serving_image(ctx, scope, store, repository_image_url(foundation), model_data)
        )
        image: pulumi.Input[str | None] = options.image or (built.image if built else None)
        foundation_key: pulumi.Input[str | None] = foundation.encryption_key
        alarms = [self._rollback_alarm(ctx, scope, name)] if options.rollback_on_errors else []
        canary = spec.canary_percent
        routing: dict[str, Any] = {
            "Type": "CANARY" if canary else "ALL_AT_ONCE",
            "WaitIntervalInSeconds": options.canary_wait_s,
        }
        if canary:
            routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": canary}
        deployment_config: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": 300,
                "MaximumExecutionTimeoutInSeconds": 3600,
            }
        }
        if alarms:
            deployment_config["AutoRollbackConfiguration"] = {
                "Alarms": [{"AlarmName": alarm.name} for alarm in alarms]
            }
        deployment = SageMakerDeployment(
            ctx.child_name("deployment"),
            {
                "endpoint_name": name,
                "region": scope.region,
                "version": served_version,
                "source": model_data,
                "image": image,
                "role_arn": role.arn,
                "environment": {
                    "MLFLOW_DEPLOYMENT_FLAVOR_NAME": "python_function",
                    "SERVING_ENVIRONMENT": "SageMaker",
                    "MLOPS_MODEL": spec.model,
                    "MLOPS_MODEL_VERSION": pulumi.Output.from_input(served_version).apply(
                        lambda v: v or ""
                    ),
                },
                "network_isolation": options.network_isolation,
                "vpc": (
                    {"Subnets": network.subnet_ids, "SecurityGroupIds": network.security_group_ids}
                    if network
                    else None
                ),
                "instance_type": instance_type,
                "initial_count": min_replicas,
                "kms_key": None if has_instance_storage(instance_type) else foundation_key,
                "deployment_config": deployment_config,
                "scaling": {
                    "min": min_replicas,
                    "max": max(spec.max_replicas, min_replicas),
                    "target_value": float(spec.target_concurrency),
                    "metric": SCALING_METRIC,
                },
                "tags": ctx.tags({"mlops-model": spec.model}),
                "timeout_s": _DEPLOY_TIMEOUT_S,
            },
            ctx.opts(
                depends_on=[role.policy, *alarms, *(built.resources if built else [])],
                custom_timeouts=pulumi.CustomTimeouts(create="90m", update="90m"),
            ),
        )
        url = pulumi.Output.all(deployment.deployed_version, scope.region).apply(
            lambda v: (
                f"https://runtime.sagemaker.{v[1]}.amazonaws.com/endpoints/{name}/invocations"
                if v[0]
                else None
            )
        )
        # The component's registry alias follows deployed_version once the deployment ended.
        return EndpointResult(
            url=url, deployed_version=deployment.deployed_version, deployment=[deployment]
        )

    @staticmethod
    def _rollback_alarm(
        ctx: BuildContext[ServingEndpointArgs], scope: AwsScope, endpoint: str
    ) -> cloudwatch.MetricAlarm:
        alarm = physical_name(endpoint, "5xx", max_length=255)
        dimensions = {"EndpointName": endpoint, "VariantName": VARIANT}
        return cloudwatch.MetricAlarm(
            ctx.child_name("errors"),
            name=alarm,
            alarm_description=f"5xx errors on endpoint {endpoint}: roll a deployment back",
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions=dimensions,
            statistic="Sum",
            period=60,
            evaluation_periods=2,
            threshold=1.0,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=scope.region_override,
        )
