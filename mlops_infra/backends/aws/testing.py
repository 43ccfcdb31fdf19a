"""Mocks for testing AWS stacks offline: invokes answered, outputs AWS would compute filled in.

Example::

    from mlops_infra.backends.aws.testing import AwsMocks
    from mlops_infra.testing import run_stack

    run = run_stack(spec, mocks=AwsMocks())

Imports no cloud SDK.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from mlops_infra.backends.aws.plan import MOCK_ACCOUNT_ID, plan_outputs
from mlops_infra.offline import EchoMocks

__all__ = ["ACCOUNT", "REGION", "AwsMocks", "served"]

ACCOUNT = MOCK_ACCOUNT_ID
"""Account id the mocks answer with."""

REGION = "eu-west-1"
"""Region the mocks answer with."""

_DECISION = "pulumi-python:dynamic/mlops:PromotionDecision"
_GENERATED = "pulumi-python:dynamic/mlops:AwsGeneratedSecret"
_DEPLOYMENT = "pulumi-python:dynamic/mlops:SageMakerDeployment"
_IMAGE_BUILD = "pulumi-python:dynamic/mlops:ImageBuild"


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


def _dynamic_outputs(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """What this backend's dynamic resources output at ``up``, as the mocks answer."""
    if typ == _DECISION:
        return served("1", "s3://bucket/mlflow/1/abc/artifacts/model")
    if typ == _GENERATED:
        return {"value": f"generated-{name}"}
    if typ == _IMAGE_BUILD:
        tag = inputs.get("tag")
        return {"image": f"{inputs.get('repository_url')}:{tag}" if tag else None}
    if typ == _DEPLOYMENT:
        # What the endpoint would confirm: the served version, once deployed.
        version = inputs.get("version")
        return {
            "deployed_version": version,
            "status": "serving" if version else "pending",
            "endpoint_config_name": f"{inputs.get('endpoint_name')}-v{version}"
            if version
            else None,
        }
    return None


# Any: Pulumi's mock API passes properties as untyped dicts.
class AwsMocks(EchoMocks):
    """:class:`~mlops_infra.offline.EchoMocks` that also answer like AWS.

    Invokes: caller identity, partition, region, availability zones. Outputs AWS computes:
    ARNs, bucket names, repository URLs, key ids, database addresses and managed secrets,
    load balancer DNS names, SageMaker names; a promotion decision serving version ``1``
    a SageMaker deployment confirming the version it was asked to serve, and image builds
    answering ``<repository>:<tag>``
    (override with ``outputs={"pulumi-python:dynamic/mlops:PromotionDecision": served(...)}``).

    Args:
        outputs: Extra outputs per resource type token (merged last).
        calls: Extra invoke results per token.
    """

    def __init__(
        self,
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Creates the mocks."""
        answers: dict[str, Mapping[str, Any]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDATEST",
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
            },
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION},
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
                "zoneIds": ["euw1-az1", "euw1-az2", "euw1-az3"],
            },
        }
        answers.update(calls or {})
        super().__init__(outputs=outputs, calls=answers)
        self._extra = dict(outputs or {})

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Answers the invoke (an empty failure list: ``None`` breaks Pulumi's mock monitor)."""
        result, _ = super().call(args)
        return result, []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Echoes the inputs and adds what AWS would compute for the type."""
        resource_id, state = super().new_resource(args)
        name = args.name
        inputs = typing.cast(dict[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType]
        service = args.typ.split(":")[1].split("/")[0] if args.typ.startswith("aws:") else ""
        computed: dict[str, Any] = {"arn": f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"}
        typ = args.typ
        if typ == "aws:s3/bucket:Bucket":
            physical = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name}abc123"
            resource_id = physical
            computed.update(bucket=physical, arn=f"arn:aws:s3:::{physical}")
        elif typ == "aws:ecr/repository:Repository":
            computed["repositoryUrl"] = (
                f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{inputs.get('name')}"
            )
        elif typ == "aws:kms/key:Key":
            computed.update(
                keyId=f"{name}-key-id", arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"
            )
        elif typ in (
            "aws:rds/instance:Instance",
            "aws:lb/loadBalancer:LoadBalancer",
            "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
            "aws:sagemaker/mlflowApp:MlflowApp",
        ):
            computed.update(plan_outputs(typ, name, inputs, REGION) or {})
        elif typ in (
            "aws:sagemaker/model:Model",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        ):
            computed["name"] = inputs.get("name") or f"{name}-1a2b3c4"
        elif typ == "aws:iam/role:Role":
            computed.update(
                name=f"{name}-1a2b3c4", arn=f"arn:aws:iam::{ACCOUNT}:role/{name}-1a2b3c4"
            )
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            computed["prefixListId"] = "pl-6da54004"
        elif typ == "pulumi:pulumi:StackReference":
            # Another stack's outputs (promotion evidence): none published yet.
            computed = {"outputs": {}, "secretOutputNames": []}
        elif typ.startswith("aws:") and "name" not in state:
            computed.setdefault("name", name)
        else:
            computed = _dynamic_outputs(typ, name, inputs) or computed
        state.update({k: v for k, v in computed.items() if state.get(k) is None or k in ("arn",)})
        state.update(self._extra.get(typ, {}))
        return resource_id, state
