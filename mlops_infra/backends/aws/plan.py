"""What offline plans and diffs know of AWS: replacement rules, stateful types.

A plan has no provider to ask: :data:`PLAN_RULES` says which input changes replace a
resource and which types hold data. The invokes and computed outputs a plan needs are
answered by :class:`~mlops_infra.backends.aws.testing.AwsMocks` (the unit tests' mocks).

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.aws.plugin` points here.
"""

from __future__ import annotations

from types import MappingProxyType

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES"]

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
