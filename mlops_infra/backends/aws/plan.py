"""What offline plans and diffs know of AWS: replacement rules, stateful types, invokes.

A plan has no provider to ask: :data:`PLAN_RULES` says which input changes replace a
resource and which types hold data; :func:`plan_invokes` answers the invokes the
backends make (account, partition, region, zones); :func:`plan_outputs` fills the outputs
AWS computes that the backends read back (the unit tests' mocks answer the same).

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.aws.plugin` points here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["MOCK_ACCOUNT_ID", "PLAN_RULES", "plan_invokes", "plan_outputs"]

MOCK_ACCOUNT_ID = "123456789012"
"""The account id every plan reports (obviously fake)."""

PLAN_RULES = ProviderRules(
    replaced_on=MappingProxyType(
        {
            # A bucket's name is its identity; object lock can only be chosen at creation.
            "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
            "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
            # The S3 side resources belong to one bucket for life.
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"bucket"}),
            "aws:s3/bucketVersioning:BucketVersioning": frozenset(
                {"bucket", "expectedBucketOwner"}
            ),
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (  # noqa: E501
                frozenset({"bucket", "expectedBucketOwner"})
            ),
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": frozenset(
                {"bucket", "expectedBucketOwner"}
            ),
            "aws:s3/bucketPolicy:BucketPolicy": frozenset({"bucket"}),
            "aws:s3/bucketLogging:BucketLogging": frozenset({"bucket", "expectedBucketOwner"}),
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls": frozenset({"bucket"}),
            # Repository names and their encryption are fixed at creation.
            "aws:ecr/repository:Repository": frozenset({"name", "encryptionConfigurations"}),
            "aws:ecr/lifecyclePolicy:LifecyclePolicy": frozenset({"repository"}),
            # A key's spec, usage and store cannot change; a new key is a new key.
            "aws:kms/key:Key": frozenset(
                {"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"}
            ),
            "aws:kms/alias:Alias": frozenset({"name", "namePrefix"}),
            "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
            "aws:secretsmanager/secretVersion:SecretVersion": frozenset(
                {"secretId", "secretString", "secretBinary"}
            ),
            "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
            "aws:iam/policy:Policy": frozenset({"name", "namePrefix", "path", "description"}),
            "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"policyArn", "role"}),
            "aws:rds/instance:Instance": frozenset(
                {
                    "identifier",
                    "identifierPrefix",
                    "engine",
                    "dbName",
                    "kmsKeyId",
                    "storageEncrypted",
                    "availabilityZone",
                    "username",
                    "characterSetName",
                }
            ),
            "aws:efs/fileSystem:FileSystem": frozenset(
                {
                    "creationToken",
                    "encrypted",
                    "kmsKeyId",
                    "performanceMode",
                    "availabilityZoneName",
                }
            ),
            "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix"}),
            "aws:ec2/securityGroup:SecurityGroup": frozenset(
                {"name", "namePrefix", "vpcId", "description"}
            ),
            "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "instanceTenancy"}),
            "aws:ec2/subnet:Subnet": frozenset({"vpcId", "cidrBlock", "availabilityZone"}),
            "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": frozenset(
                {"trackingServerName", "artifactStoreUri"}
            ),
            "aws:sagemaker/mlflowApp:MlflowApp": frozenset({"name"}),
            "aws:sagemaker/pipeline:Pipeline": frozenset({"pipelineName"}),
            "aws:sagemaker/endpoint:Endpoint": frozenset({"name"}),
            "aws:scheduler/schedule:Schedule": frozenset({"name", "namePrefix", "groupName"}),
            # A training run sends its job at create: a new request or name is a new job.
            "pulumi-python:dynamic/mlops:SageMakerTrainingRun": frozenset(
                {"job_name", "request", "region"}
            ),
        }
    ),
    immutable_types=frozenset(
        {
            # SageMaker models and endpoint configurations cannot be updated, only replaced.
            "aws:sagemaker/model:Model",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        }
    ),
    stateful_types=frozenset(
        {
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketV2:BucketV2",
            "aws:rds/instance:Instance",
            "aws:rds/cluster:Cluster",
            "aws:efs/fileSystem:FileSystem",
            "aws:dynamodb/table:Table",
            "aws:ecr/repository:Repository",
            "aws:kms/key:Key",
            "aws:secretsmanager/secret:Secret",
            "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
            "aws:sagemaker/mlflowApp:MlflowApp",
            "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
            "aws:cloudwatch/logGroup:LogGroup",
        }
    ),
    tagged_types=frozenset(
        {
            "aws:s3/bucket:Bucket",
            "aws:kms/key:Key",
            "aws:ecr/repository:Repository",
            "aws:iam/role:Role",
            "aws:secretsmanager/secret:Secret",
            "pulumi-python:dynamic/mlops:SageMakerTrainingRun",
            "aws:sagemaker/model:Model",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            "aws:sagemaker/endpoint:Endpoint",
            "aws:sagemaker/pipeline:Pipeline",
            "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
            "aws:rds/instance:Instance",
        }
    ),
)
"""Rules of pulumi_aws 7 types (ForceNew arguments of the Terraform provider it bridges)."""


def plan_invokes(region: str | None) -> Mapping[str, Mapping[str, Any]]:
    """Answers the invokes AWS backends make, with fixed, obviously fake values.

    Args:
        region: The stack's region (``us-east-1`` when it names none).
    """
    aws_region = region or "us-east-1"
    return {
        "aws:index/getCallerIdentity:getCallerIdentity": {
            "accountId": MOCK_ACCOUNT_ID,
            "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/plan",
            "id": MOCK_ACCOUNT_ID,
            "userId": "PLAN",
        },
        "aws:index/getPartition:getPartition": {
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
            "id": "aws",
            "reverseDnsPrefix": "com.amazonaws",
        },
        "aws:index/getRegion:getRegion": {
            "name": aws_region,
            "region": aws_region,
            "id": aws_region,
            "endpoint": f"ec2.{aws_region}.amazonaws.com",
        },
        "aws:index/getAvailabilityZones:getAvailabilityZones": {
            "id": aws_region,
            "names": [f"{aws_region}{zone}" for zone in "abc"],
            "zoneIds": [f"{aws_region}-az{index}" for index in (1, 2, 3)],
            "state": "available",
        },
    }


def plan_outputs(
    typ: str, name: str, inputs: Mapping[str, Any], region: str | None
) -> Mapping[str, Any] | None:
    """Outputs AWS computes that the backends read back, as fixed, obviously fake values.

    SageMaker MLflow servers and apps answer ARNs of their real shapes. The self-hosted
    tracking server builds its URL and allowed hosts from the load
    balancer's DNS name and points MLflow at the database's address and managed secret.

    Args:
        typ: The resource's type token.
        name: Its logical name.
        inputs: Its inputs.
        region: The stack's region (``us-east-1`` when it names none).
    """
    aws_region = region or "us-east-1"
    sagemaker = f"arn:aws:sagemaker:{aws_region}:{MOCK_ACCOUNT_ID}"
    # The workloads' MLflow permissions depend on which kind of SageMaker MLflow resource
    # the ARN names (mlflow_auth.mlflow_resource_type), so the mocks give the real shapes.
    if typ == "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer":
        return {"arn": f"{sagemaker}:mlflow-tracking-server/{inputs.get('trackingServerName')}"}
    if typ == "aws:sagemaker/mlflowApp:MlflowApp":
        app_id = hashlib.sha256(str(inputs.get("name")).encode()).hexdigest()[:12]
        return {"arn": f"{sagemaker}:mlflow-app/app-{app_id}"}
    if typ == "aws:lb/loadBalancer:LoadBalancer":
        return {"dnsName": f"internal-{name}.{aws_region}.elb.amazonaws.com"}
    if typ == "aws:rds/instance:Instance":
        secret = f"arn:aws:secretsmanager:{aws_region}:{MOCK_ACCOUNT_ID}:secret:rds!{name}"
        return {
            "address": f"{inputs.get('identifier') or name}.abc.{aws_region}.rds.amazonaws.com",
            "masterUserSecrets": [{"secretArn": secret}],
        }
    return None
