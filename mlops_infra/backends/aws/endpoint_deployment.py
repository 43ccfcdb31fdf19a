"""``SageMakerDeployment``: the version-specific part of an endpoint, deployed at ``up``.

Pulumi cannot declare resources conditionally on an output, and the version a gate lets
through is only known at ``up``. The SageMaker model, endpoint configuration and endpoint
therefore come from this dynamic resource, which calls the SageMaker API with boto3:

* no version served yet (the gate never passed): nothing is created; ``deployed_version``
  is ``None`` and the endpoint is pending;
* a version: ``CreateModel`` → ``CreateEndpointConfig`` (names derived from the endpoint
  and a hash of everything version-specific, so a retried or interrupted ``up`` finds and
  adopts what it created) → ``CreateEndpoint``, or ``UpdateEndpoint`` with the blue/green
  deployment configuration and the alarm-based auto-rollback; then ``DescribeEndpoint``
  until the endpoint settles, and the configuration it reports decides what is served:
  after an auto-rollback the previous version stays ``deployed_version``;
* autoscaling (``RegisterScalableTarget`` + ``PutScalingPolicy``) once the endpoint exists:
  a native scalable target cannot be declared before the endpoint it scales exists;
* delete removes the endpoint, its scaling target, and the models and configurations this
  resource created.

API reference: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html,
API_CreateEndpointConfig.html, API_CreateEndpoint.html, API_UpdateEndpoint.html,
API_DescribeEndpoint.html (same folder); autoscaling on update:
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.aws._api import AwsApi, conform, error_code, progress
from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = [
    "DeploymentInputs",
    "SageMakerDeployment",
    "deploy",
    "read_deployment",
    "resource_names",
    "undeploy",
]

VARIANT = "primary"
_SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: Endpoint states that end on their own (DescribeEndpoint's EndpointStatus).
_SETTLING = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})
#: Inputs whose change moves the endpoint to another deployment.
#: Endpoint states an update cannot start from (the endpoint is recreated).
_BROKEN = frozenset({"Failed"})
_REPLACES = ("endpoint_name", "region")
_OUTPUTS = ("deployed_version", "model_name", "endpoint_config_name", "configs", "status")

DeploymentInputs = Mapping[str, Any]
"""Plain inputs of a deployment (see :class:`SageMakerDeployment` for the keys)."""


def resource_names(props: DeploymentInputs) -> tuple[str, str]:
    """Model and endpoint configuration names of the version ``props`` serves.

    ``<endpoint>-v<version>-<hash>`` where the hash covers everything version-specific
    (artifacts, image, role, environment, network, instance type and count, key): the same
    inputs always give the same names, so an interrupted deployment is adopted, never
    duplicated, and a change of any of them makes new ones (SageMaker models and
    configurations cannot be changed in place). At most 63 characters (SageMaker names).
    """
    specific = {
        key: props.get(key)
        for key in (
            "version", "source", "image", "role_arn", "environment", "network_isolation",
            "vpc", "instance_type", "initial_count", "kms_key",
        )
    }  # fmt: skip
    digest = hashlib.sha256(json.dumps(specific, sort_keys=True).encode()).hexdigest()[:8]
    version = "".join(c if c.isalnum() else "-" for c in str(props["version"]))[:12]
    head = str(props["endpoint_name"])[: 63 - len(version) - len(digest) - 3].rstrip("-")
    model = f"{head}-v{version}-{digest}"
    return model, model


def _tags(props: DeploymentInputs, extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    tags = {**dict(props.get("tags") or {}), **dict(extra or {})}
    return [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())]


def _create_model(sm: Any, props: DeploymentInputs, name: str) -> None:
    try:
        sm.describe_model(ModelName=name)
    except Exception as error:
        if error_code(error) != "ValidationException":
            raise
    else:
        progress(f"model {name}: exists, adopted")
        return
    container: dict[str, Any] = {
        "Image": props["image"],
        "Mode": "SingleModel",
        "ModelDataSource": {
            "S3DataSource": {
                "S3Uri": props["source"],
                "S3DataType": "S3Prefix",
                "CompressionType": "None",
            }
        },
        "Environment": dict(props.get("environment") or {}),
    }
    request: dict[str, Any] = {
        "ModelName": name,
        "PrimaryContainer": container,
        "ExecutionRoleArn": props["role_arn"],
        "EnableNetworkIsolation": bool(props.get("network_isolation", True)),
        "Tags": _tags(props, {"mlops-model-version": str(props["version"])}),
    }
    if props.get("vpc"):
        request["VpcConfig"] = dict(props["vpc"])
    sm.create_model(**request)
    progress(f"model {name}: created (version {props['version']})")


def _create_config(sm: Any, props: DeploymentInputs, name: str, model: str) -> None:
    try:
        sm.describe_endpoint_config(EndpointConfigName=name)
    except Exception as error:
        if error_code(error) != "ValidationException":
            raise
    else:
        progress(f"endpoint configuration {name}: exists, adopted")
        return
    request: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": VARIANT,
                "ModelName": model,
                "InstanceType": props["instance_type"],
                "InitialInstanceCount": int(props["initial_count"]),
                "InitialVariantWeight": 1.0,
            }
        ],
        "Tags": _tags(props, {"mlops-model-version": str(props["version"])}),
    }
    if props.get("kms_key"):
        request["KmsKeyId"] = props["kms_key"]
    sm.create_endpoint_config(**request)
    progress(f"endpoint configuration {name}: created")


def _describe_endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(sm.describe_endpoint(EndpointName=name))
    except Exception as error:
        if error_code(error) == "ValidationException":  # "Could not find endpoint"
            return None
        raise


def _settle(api: AwsApi, name: str, timeout_s: float) -> dict[str, Any]:
    sm = api.client("sagemaker")
    latest: dict[str, Any] = {}

    def poll() -> tuple[bool, str]:
        nonlocal latest
        latest = _describe_endpoint(sm, name) or {"EndpointStatus": "absent"}
        status = str(latest.get("EndpointStatus"))
        return status not in _SETTLING, status

    api.wait(f"endpoint {name}", poll, timeout_s)
    return latest


def _scaling(api: AwsApi, props: DeploymentInputs, *, register: bool) -> None:
    scaling: Mapping[str, Any] | None = props.get("scaling")
    if not scaling:
        return
    aas = api.client("application-autoscaling")
    resource = f"endpoint/{props['endpoint_name']}/variant/{VARIANT}"
    if not register:
        try:
            aas.deregister_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId=resource,
                ScalableDimension=_SCALABLE_DIMENSION,
            )
        except Exception as error:
            if error_code(error) != "ObjectNotFoundException":
                raise
        return
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=_SCALABLE_DIMENSION,
        MinCapacity=int(scaling["min"]),
        MaxCapacity=int(scaling["max"]),
    )
    aas.put_scaling_policy(
        PolicyName=f"{props['endpoint_name']}-concurrency",
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=_SCALABLE_DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": float(scaling["target_value"]),
            "PredefinedMetricSpecification": {"PredefinedMetricType": scaling["metric"]},
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )


def _delete_quietly(call: Any, **request: str) -> None:
    try:
        call(**request)
    except Exception as error:
        if error_code(error) != "ValidationException":  # already gone
            raise


def _outputs(
    props: DeploymentInputs,
    *,
    deployed: str | None,
    config: str | None,
    configs: Mapping[str, str],
    status: str,
) -> dict[str, Any]:
    return {
        **{k: v for k, v in props.items() if not k.startswith("__")},
        "deployed_version": deployed,
        "model_name": config,
        "endpoint_config_name": config,
        "configs": dict(configs),
        "status": status,
    }


def _start(
    api: AwsApi,
    props: DeploymentInputs,
    olds: Mapping[str, Any] | None,
    config: str,
    timeout: float,
) -> None:
    """Creates the endpoint on ``config``, or starts its blue/green update to it."""
    sm = api.client("sagemaker")
    endpoint = str(props["endpoint_name"])
    version = props["version"]
    current = _describe_endpoint(sm, endpoint)
    if current is not None and str(current.get("EndpointStatus")) in _SETTLING:
        current = _settle(api, endpoint, timeout)  # an interrupted up left it moving
    if current is not None and current.get("EndpointStatus") in _BROKEN:
        # A failed creation cannot be updated: it is deleted and created again.
        progress(f"endpoint {endpoint}: {current.get('EndpointStatus')}, recreating it")
        sm.delete_endpoint(EndpointName=endpoint)
        current = _settle(api, endpoint, timeout)
        current = None if current.get("EndpointStatus") == "absent" else current
    if current is None:
        sm.create_endpoint(
            **conform(
                "sagemaker",
                "CreateEndpoint",
                {
                    "EndpointName": endpoint,
                    "EndpointConfigName": config,
                    "DeploymentConfig": props["deployment_config"],
                    "Tags": _tags(props),
                },
            )
        )
        progress(f"endpoint {endpoint}: creating with version {version}")
    elif current.get("EndpointConfigName") != config:
        old_type = (olds or {}).get("instance_type")
        same_type = old_type in (None, props["instance_type"])
        if not same_type:
            _scaling(api, props, register=False)  # the update would fail with it registered
        sm.update_endpoint(
            **conform(
                "sagemaker",
                "UpdateEndpoint",
                {
                    "EndpointName": endpoint,
                    "EndpointConfigName": config,
                    "DeploymentConfig": props["deployment_config"],
                    "RetainAllVariantProperties": same_type,
                },
            )
        )
        progress(f"endpoint {endpoint}: blue/green update to version {version}")


def deploy(
    api: AwsApi, props: DeploymentInputs, olds: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Deploys the version ``props`` serves (or keeps what is served) and confirms it.

    ``olds``: the outputs of the previous deployment, if any. Returns the new outputs:
    ``deployed_version`` is what the endpoint confirms it serves.

    Raises:
        RuntimeError: the endpoint failed, or neither the new nor the old configuration
            is live after the update.
        TimeoutError: the endpoint did not settle within ``timeout_s``.
    """
    previous: dict[str, str] = dict((olds or {}).get("configs") or {})
    version = props.get("version")
    endpoint = str(props["endpoint_name"])
    if not version:
        deployed = (olds or {}).get("deployed_version")
        progress(
            f"endpoint {endpoint}: no model version has passed the gate; "
            + (f"version {deployed} stays served" if deployed else "nothing is deployed")
        )
        return _outputs(
            props,
            deployed=deployed,
            config=(olds or {}).get("endpoint_config_name"),
            configs=previous,
            status="serving" if deployed else "pending",
        )
    sm = api.client("sagemaker")
    timeout = float(props.get("timeout_s") or 3600)
    name, config = resource_names(props)
    _create_model(sm, props, name)
    _create_config(sm, props, config, name)
    known = {**previous, config: str(version)}
    _start(api, props, olds, config, timeout)
    settled = _settle(api, endpoint, timeout)
    live = str(settled.get("EndpointConfigName") or "")
    status = str(settled.get("EndpointStatus"))
    if status != "InService":
        reason = settled.get("FailureReason") or "no reason given"
        msg = f"endpoint {endpoint}: {status} deploying version {version}: {reason}"
        raise RuntimeError(msg)
    if live not in known:
        msg = f"endpoint {endpoint}: serves configuration {live!r}, which this stack did not create"
        raise RuntimeError(msg)
    deployed = known[live]
    _scaling(api, props, register=True)
    if live == config:
        for stale in [c for c in known if c != config]:
            _delete_quietly(sm.delete_endpoint_config, EndpointConfigName=stale)
            _delete_quietly(sm.delete_model, ModelName=stale)
            progress(f"endpoint {endpoint}: removed version {known[stale]} ({stale})")
        return _outputs(props, deployed=deployed, config=config, configs={config: deployed},
                        status="serving")  # fmt: skip
    reason = settled.get("FailureReason") or "the deployment was rolled back"
    progress(
        f"endpoint {endpoint}: version {version} was rolled back ({reason}); "
        f"version {deployed} stays served"
    )
    _delete_quietly(sm.delete_endpoint_config, EndpointConfigName=config)
    _delete_quietly(sm.delete_model, ModelName=name)
    return _outputs(props, deployed=deployed, config=live, configs={live: deployed},
                    status=f"rolled back: version {version}: {reason}")  # fmt: skip


def undeploy(api: AwsApi, outs: Mapping[str, Any]) -> None:
    """Deletes the endpoint, its scaling target and the models and configurations created."""
    sm = api.client("sagemaker")
    endpoint = str(outs["endpoint_name"])
    if _describe_endpoint(sm, endpoint) is not None:
        _scaling(api, outs, register=False)
        sm.delete_endpoint(EndpointName=endpoint)
        progress(f"endpoint {endpoint}: deleted")
    for config in dict(outs.get("configs") or {}):
        _delete_quietly(sm.delete_endpoint_config, EndpointConfigName=config)
        _delete_quietly(sm.delete_model, ModelName=config)


def read_deployment(api: AwsApi, outs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs as the cloud reports them now (``refresh``): what the endpoint serves."""
    current = _describe_endpoint(api.client("sagemaker"), str(outs["endpoint_name"]))
    configs: dict[str, str] = dict(outs.get("configs") or {})
    if current is None:
        return {**outs, "deployed_version": None, "status": "pending" if not configs else "absent"}
    live = str(current.get("EndpointConfigName") or "")
    return {
        **outs,
        "deployed_version": configs.get(live),
        "endpoint_config_name": live,
        "status": str(current.get("EndpointStatus")),
    }


class _DeploymentProvider(EngineBoundProvider):
    def _api(self, props: Mapping[str, Any]) -> AwsApi:
        return AwsApi(region=props.get("region"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(
            id_=f"{props['region'] or 'default'}/{props['endpoint_name']}",
            outs=deploy(self._api(props), props),
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key, value in news.items()
            if not key.startswith("__") and key not in _OUTPUTS and olds.get(key) != value
        ]  # fmt: skip
        return DiffResult(
            changes=bool(changed),
            replaces=[key for key in changed if key in _REPLACES],
            delete_before_replace=True,  # the endpoint name is fixed
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=deploy(self._api(news), news, olds))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        undeploy(self._api(props), props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, read_deployment(self._api(props), props))


class SageMakerDeployment(Resource, module="mlops", name="SageMakerDeployment"):
    """The served version's model, endpoint configuration and endpoint (see the module).

    Inputs (all resolved to plain data): ``endpoint_name``, ``region``, ``version`` and
    ``source`` (the served version and its S3 artifact prefix, ``None`` while nothing has
    passed the gate), ``image``, ``role_arn``, ``environment``, ``network_isolation``,
    ``vpc`` (``Subnets``/``SecurityGroupIds``), ``instance_type``, ``initial_count``,
    ``kms_key``, ``deployment_config`` (CreateEndpoint's ``DeploymentConfig``), ``scaling``
    (``min``, ``max``, ``target_value``, ``metric``), ``tags``, ``timeout_s``.
    """

    deployed_version: pulumi.Output[str | None]
    """The version the endpoint confirms it serves; ``None`` while nothing is deployed."""

    endpoint_config_name: pulumi.Output[str | None]
    """The endpoint configuration that is live."""

    status: pulumi.Output[str]
    """``pending``, ``serving``, or ``rolled back: …`` with the reason."""

    def __init__(
        self,
        name: str,
        inputs: Mapping[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the deployment ``name``."""
        props: dict[str, Any] = {**inputs, **dict.fromkeys(_OUTPUTS)}
        super().__init__(_DeploymentProvider(), name, props, opts)
