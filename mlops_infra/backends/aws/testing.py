"""AWS's mocks: the one place its invoke answers and computed outputs are written.

``mlops-infra plan`` uses :class:`AwsMocks` previewed (the descriptor in
:mod:`mlops_infra.backends.aws.plugin` names it); tests use it applied.

Example::

    from mlops_infra.backends.aws.testing import AwsMocks
    from mlops_infra.testing import run_stack

    run = run_stack(spec, mocks=AwsMocks())

Imports no cloud SDK.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from mlops_infra.offline import CloudMocks

__all__ = ["ACCOUNT", "DEFAULT_REGION", "REGION", "AwsMocks", "served"]

ACCOUNT = "123456789012"
"""Account id the mocks answer with (obviously fake)."""

REGION = "eu-west-1"
"""Region the mocks answer with unless given one (the tests' region)."""

DEFAULT_REGION = "us-east-1"
"""Region answered for a stack that names none (AWS's default)."""

_DECISION = "pulumi-python:dynamic/mlops:PromotionDecision"
_GENERATED = "pulumi-python:dynamic/mlops:AwsGeneratedSecret"
_DEPLOYMENT = "pulumi-python:dynamic/mlops:SageMakerDeployment"
_IMAGE_BUILD = "pulumi-python:dynamic/mlops:ImageBuild"
_STACK_REFERENCE = "pulumi:pulumi:StackReference"


def served(version: str | None, source: str | None) -> dict[str, Any]:
    """Outputs of a promotion decision that serves ``version`` from ``source``."""
    return {
        "served_version": version,
        "served_source": source,
        "decision": {
            "outcome": "promoted" if version else "no-candidate",
            "served": version,
            "reasons": ["mocked"],
        },
    }


def _dynamic_outputs(typ: str, name: str, state: Mapping[str, Any]) -> dict[str, Any] | None:
    """What this backend's dynamic resources output at ``up``, as the mocks answer."""
    if typ == _DECISION:
        return served("1", "s3://bucket/mlflow/1/abc/artifacts/model")
    if typ == _GENERATED:
        return {"value": f"generated-{name}"}
    if typ == _IMAGE_BUILD:
        tag = state.get("tag")
        return {"image": f"{state.get('repository_url')}:{tag}" if tag else None}
    if typ == _DEPLOYMENT:
        # What the endpoint would confirm: the served version, once deployed.
        version = state.get("version")
        return {
            "deployed_version": version,
            "status": "serving" if version else "pending",
            "endpoint_config_name": f"{state.get('endpoint_name')}-v{version}" if version else None,
        }
    return None


# Any: Pulumi's mock API passes properties as untyped dicts.
class AwsMocks(CloudMocks):
    """:class:`~mlops_infra.offline.CloudMocks` that answer like AWS.

    Invokes: caller identity, partition, region, availability zones. Previewed: the ARNs
    of SageMaker MLflow servers and apps (their kind picks the workloads' permissions),
    database addresses and managed secrets, load balancer DNS names. Applied, also: ARNs,
    bucket names, repository URLs, key ids, role and SageMaker names; a promotion decision
    serving version ``1``, a SageMaker deployment confirming the version it was asked to
    serve, and image builds answering ``<repository>:<tag>``
    (override with ``outputs={"pulumi-python:dynamic/mlops:PromotionDecision": served(...)}``).

    Args:
        region: The stack's region (``None``: :data:`DEFAULT_REGION`).
        outputs: Extra outputs per resource type token (merged last).
        calls: Extra invoke results per token.
        applied: Also answer what ``pulumi up`` assigns
            (see :class:`~mlops_infra.offline.CloudMocks`).
    """

    def __init__(
        self,
        region: str | None = REGION,
        *,
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
        applied: bool = True,
    ) -> None:
        """Creates the mocks."""
        super().__init__(region, outputs=outputs, calls=calls, applied=applied)

    @property
    def aws_region(self) -> str:
        """The region answered: the stack's, or :data:`DEFAULT_REGION`."""
        return self.region or DEFAULT_REGION

    def invoke_answers(self) -> Mapping[str, Mapping[str, Any]]:
        """Caller identity, partition, region and zones, as fixed, obviously fake values."""
        region = self.aws_region
        return {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/plan",
                "id": ACCOUNT,
                "userId": "PLAN",
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            },
            "aws:index/getRegion:getRegion": {
                "name": region,
                "region": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
            },
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "id": region,
                "names": [f"{region}{zone}" for zone in "abc"],
                "zoneIds": [f"{region}-az{index}" for index in (1, 2, 3)],
                "state": "available",
            },
        }

    def previewed(self, typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Outputs AWS derives from the inputs that the backends read back.

        SageMaker MLflow servers and apps answer ARNs of their real shapes. The
        self-hosted tracking server builds its URL and allowed hosts from the load
        balancer's DNS name and points MLflow at the database's address and managed
        secret.
        """
        region = self.aws_region
        sagemaker = f"arn:aws:sagemaker:{region}:{ACCOUNT}"
        # The workloads' MLflow permissions depend on which kind of SageMaker MLflow resource
        # the ARN names (mlflow_auth.mlflow_resource_type), so the mocks give the real shapes.
        if typ == "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer":
            return {"arn": f"{sagemaker}:mlflow-tracking-server/{inputs.get('trackingServerName')}"}
        if typ == "aws:sagemaker/mlflowApp:MlflowApp":
            app_id = hashlib.sha256(str(inputs.get("name")).encode()).hexdigest()[:12]
            return {"arn": f"{sagemaker}:mlflow-app/app-{app_id}"}
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            return {"dnsName": f"internal-{name}.{region}.elb.amazonaws.com"}
        if typ == "aws:rds/instance:Instance":
            secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:rds!{name}"
            return {
                "address": f"{inputs.get('identifier') or name}.abc.{region}.rds.amazonaws.com",
                "masterUserSecrets": [{"secretArn": secret}],
            }
        return None

    def assigned(
        self, typ: str, name: str, resource_id: str | None, state: dict[str, Any]
    ) -> str | None:
        """ARNs, physical names and ids, and what the dynamic resources report at ``up``."""
        region = self.aws_region
        service = typ.split(":")[1].split("/", maxsplit=1)[0] if typ.startswith("aws:") else ""
        computed: dict[str, Any] = {"arn": f"arn:aws:{service}:{region}:{ACCOUNT}:{name}"}
        if typ == "aws:s3/bucket:Bucket":
            physical = state.get("bucket") or f"{state.get('bucketPrefix') or name}abc123"
            resource_id = physical
            computed.update(bucket=physical, arn=f"arn:aws:s3:::{physical}")
        elif typ == "aws:ecr/repository:Repository":
            computed["repositoryUrl"] = (
                f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{state.get('name')}"
            )
        elif typ == "aws:kms/key:Key":
            computed.update(
                keyId=f"{name}-key-id", arn=f"arn:aws:kms:{region}:{ACCOUNT}:key/{name}"
            )
        elif typ in (
            "aws:sagemaker/model:Model",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        ):
            computed["name"] = state.get("name") or f"{name}-1a2b3c4"
        elif typ == "aws:iam/role:Role":
            computed.update(
                name=f"{name}-1a2b3c4", arn=f"arn:aws:iam::{ACCOUNT}:role/{name}-1a2b3c4"
            )
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            computed["prefixListId"] = "pl-6da54004"
        elif typ == _STACK_REFERENCE:
            # Another stack's outputs (promotion evidence): none published yet.
            computed = {"outputs": {}, "secretOutputNames": []}
        elif typ.startswith("aws:") and "name" not in state:
            computed.setdefault("name", name)
        else:
            computed = _dynamic_outputs(typ, name, state) or computed
        state.update({k: v for k, v in computed.items() if state.get(k) is None or k == "arn"})
        return resource_id
