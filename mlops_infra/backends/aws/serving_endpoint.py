"""Gated SageMaker endpoint: registry → gate → Model → EndpointConfiguration → Endpoint.

Children of the ``ServingEndpoint`` component ``<name>``:

* ``<name>-gate``: :class:`~mlops_infra.gates.PromotionDecision`, evaluated at ``pulumi up``
  with the MLflow client against the tracking server (read-only in previews). Against
  SageMaker MLflow the machine running ``up`` needs the ``sagemaker-mlflow`` plugin and AWS
  credentials allowed to read the registry and set aliases on it.
* ``<name>-role`` (+ policy): the model may read MLflow artifacts, pull its image, log.
* ``<name>-model``: ``sagemaker.Model`` of the version the gate serves: the MLflow serving
  image (``mlflow models build-docker``, SageMaker contract) with the model's artifacts
  mounted uncompressed from the store; network-isolated unless ``network_isolation: false``.
* ``<name>-config``: ``sagemaker.EndpointConfiguration``: one weighted variant ``primary``
  on the resolved instance type, the stack key on its volume (where the instance has no
  local NVMe storage, which is hardware-encrypted and rejects a key).
* ``<name>``: ``sagemaker.Endpoint`` with a blue/green deployment: with ``canary_percent``
  the new fleet first takes that share of capacity for ``canary_wait_s``, then all of it;
  ``<name>-errors`` (a 5xx alarm) rolls a bad deployment back.
* ``<name>-scaling`` / ``<name>-scaling-policy``: application autoscaling between
  ``min_replicas`` (at least 1: real-time GPU endpoints cannot scale to zero without
  inference components) and ``max_replicas``, tracking concurrent requests per instance.

A version is deployed only when the gate lets it through. A failing candidate keeps the
served version (nothing changes); when nothing has ever passed, ``pulumi up`` stops at the
model with the gate's reasons, and nothing is served.
"""

from __future__ import annotations

import pulumi
from pulumi_aws import appautoscaling, cloudwatch, sagemaker

from mlops_infra.backends.aws._foundation import network_of, registry_image
from mlops_infra.backends.aws._iam import (
    AwsScope,
    ecr_pull,
    ecr_repository_arn,
    kms_use,
    logs_write,
    s3_read,
    service_role,
    statement,
)
from mlops_infra.backends.aws._naming import has_instance_storage, physical_name
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws._workload import network_statements
from mlops_infra.backends.aws.options import SageMakerEndpointOptions
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import ServingEndpointSpec

__all__ = ["SERVING_IMAGE_TAG", "VARIANT", "SageMakerEndpoint", "model_data_uri"]

VARIANT = "primary"
"""Name of the endpoint's production variant."""

SERVING_IMAGE_TAG = "mlflow-serving"
"""Tag of the default serving image in the stack's ECR repository."""

_SCALING_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"


def model_data_uri(source: str | None, store_mlflow_uri: str, where: str) -> str:
    """The S3 prefix of the served model's artifacts (``mlflow-artifacts:`` resolved).

    Raises:
        BackendError: the gate serves nothing (no version has passed it yet).
    """
    if not source:
        msg = (
            f"{where}: the promotion gate lets no model version through yet, so nothing is "
            "deployed (see the gate's decision output for the reasons); register a version "
            "that passes it and run pulumi up again"
        )
        raise BackendError(msg)
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
        """Declares the gate, model, endpoint configuration, endpoint and autoscaling."""
        options = ctx.options_as(SageMakerEndpointOptions)
        offer = node_shape(ctx.target, spec, "serving")
        instance_type = (
            offer.instance_type if offer else spec.instance_type or options.cpu_instance_type
        )
        if not instance_type.startswith("ml."):
            msg = f"{ctx.name}: instance_type {instance_type!r} is not a SageMaker type (ml.*)"
            raise BackendError(msg)
        min_replicas = (
            spec.min_replicas if spec.min_replicas is not None else ctx.target.profile.min_replicas
        )
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
        image = options.image or registry_image(foundation, SERVING_IMAGE_TAG)
        if image is None:
            msg = (
                f"{ctx.name}: set options.image (an MLflow serving image: mlflow models "
                "build-docker) or let the stack create its container registry"
            )
            raise BackendError(msg)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        region = scope.region_override
        store = StoreLocation.of(ctx.args.store, scope)
        network = network_of(foundation)
        name = physical_name(ctx.stack_name, spec.name)

        mlflow_uri = store.s3_uri(MLFLOW_PREFIX)
        model_data = pulumi.Output.all(served.source, mlflow_uri).apply(
            lambda v: model_data_uri(v[0], str(v[1]), ctx.name)
        )
        statements = [
            *s3_read(store.bucket_arn, [store.key(MLFLOW_PREFIX)], sid="ModelArtifacts"),
            *kms_use(store.key_arns),
            *ecr_pull([ecr_repository_arn(image, scope)]),
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
        model = sagemaker.Model(
            ctx.child_name("model"),
            execution_role_arn=role.arn,
            primary_container=sagemaker.ModelPrimaryContainerArgs(
                image=image,
                mode="SingleModel",
                model_data_source=sagemaker.ModelPrimaryContainerModelDataSourceArgs(
                    s3_data_sources=[
                        sagemaker.ModelPrimaryContainerModelDataSourceS3DataSourceArgs(
                            s3_uri=model_data, s3_data_type="S3Prefix", compression_type="None"
                        )
                    ]
                ),
                environment={
                    "MLFLOW_DEPLOYMENT_FLAVOR_NAME": "python_function",
                    "SERVING_ENVIRONMENT": "SageMaker",
                    "MLOPS_MODEL": spec.model,
                    "MLOPS_MODEL_VERSION": served.version.apply(lambda v: v or ""),
                },
            ),
            enable_network_isolation=options.network_isolation,
            vpc_config=(
                sagemaker.ModelVpcConfigArgs(
                    subnets=network.subnet_ids, security_group_ids=network.security_group_ids
                )
                if network
                else None
            ),
            tags=ctx.tags({"mlops-model": spec.model}),
            opts=ctx.opts(depends_on=[role.policy]),
            region=region,
        )
        foundation_key: pulumi.Input[str | None] = foundation.encryption_key if foundation else None
        config = sagemaker.EndpointConfiguration(
            ctx.child_name("config"),
            production_variants=[
                sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name=VARIANT,
                    model_name=model.name,
                    instance_type=instance_type,
                    initial_instance_count=min_replicas,
                    initial_variant_weight=1.0,
                )
            ],
            kms_key_arn=None if has_instance_storage(instance_type) else foundation_key,
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        alarms = [self._rollback_alarm(ctx, scope, name)] if options.rollback_on_errors else []
        canary = spec.canary_percent
        routing = sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(  # noqa: E501 - one SDK class name
            type="CANARY" if canary else "ALL_AT_ONCE",
            wait_interval_in_seconds=options.canary_wait_s,
            canary_size=(
                sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
                    type="CAPACITY_PERCENT", value=canary
                )
                if canary
                else None
            ),
        )
        endpoint = sagemaker.Endpoint(
            ctx.child_name(),
            name=name,
            endpoint_config_name=config.name,
            deployment_config=sagemaker.EndpointDeploymentConfigArgs(
                blue_green_update_policy=sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                    traffic_routing_configuration=routing,
                    termination_wait_in_seconds=300,
                    maximum_execution_timeout_in_seconds=3600,
                ),
                auto_rollback_configuration=(
                    sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                        alarms=[
                            sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(
                                alarm_name=alarm.name
                            )
                            for alarm in alarms
                        ]
                    )
                    if alarms
                    else None
                ),
            ),
            tags=ctx.tags(),
            opts=ctx.opts(
                depends_on=alarms,
                custom_timeouts=pulumi.CustomTimeouts(create="60m", update="90m"),
            ),
            region=region,
        )
        target = appautoscaling.Target(
            ctx.child_name("scaling"),
            service_namespace="sagemaker",
            resource_id=f"endpoint/{name}/variant/{VARIANT}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=min_replicas,
            max_capacity=max(spec.max_replicas, min_replicas),
            tags=ctx.tags(),
            opts=ctx.opts(depends_on=[endpoint]),
            region=region,
        )
        appautoscaling.Policy(
            ctx.child_name("scaling-policy"),
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            target_tracking_scaling_policy_configuration=appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(spec.target_concurrency),
                predefined_metric_specification=appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type=_SCALING_METRIC
                ),
                scale_in_cooldown=300,
                scale_out_cooldown=60,
            ),
            opts=ctx.opts(),
            region=region,
        )
        url = pulumi.Output.concat(
            "https://runtime.sagemaker.", scope.region, ".amazonaws.com/endpoints/",
            endpoint.name, "/invocations",
        )  # fmt: skip
        return EndpointResult(url=url, deployed_version=served.version, deployment=[endpoint])

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
