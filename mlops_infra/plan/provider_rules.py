"""What providers do that a plan cannot see: which changes replace, which resources hold data.

An offline plan has no provider to ask, so the few facts a reviewer must not miss are
kept here, in one table each, with the reason beside every entry:

* :data:`REPLACED_ON`: input paths whose change makes the provider replace the
  resource (Terraform's ``ForceNew``; Pulumi's ``replaceReasons``), by type token;
* :data:`IMMUTABLE_TYPES`: types where every input but tags replaces;
* :data:`STATEFUL_TYPES`: types that hold data, whose replacement or deletion loses it.

Resources that set ``replace_on_changes`` need no entry: that option is read from the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mlops_infra.plan.paths import matches

__all__ = [
    "IMMUTABLE_TYPES",
    "REPLACED_ON",
    "STATEFUL_TYPES",
    "is_stateful_type",
    "replace_reasons",
]

_TAG_INPUTS = ("tags", "tagsAll", "labels")

REPLACED_ON: Mapping[str, frozenset[str]] = {
    # --- AWS (pulumi_aws 7; ForceNew arguments of the Terraform provider it bridges)
    # A bucket's name is its identity; object lock can only be chosen at creation.
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    # The S3 side resources belong to one bucket for life.
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"bucket"}),
    "aws:s3/bucketVersioning:BucketVersioning": frozenset({"bucket", "expectedBucketOwner"}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
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
        {"creationToken", "encrypted", "kmsKeyId", "performanceMode", "availabilityZoneName"}
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
    # --- Google Cloud (pulumi_gcp)
    "gcp:storage/bucket:Bucket": frozenset({"name", "location", "project"}),
    "gcp:sql/databaseInstance:DatabaseInstance": frozenset(
        {"name", "region", "project", "encryptionKeyName", "masterInstanceName"}
    ),
    "gcp:cloudrunv2/service:Service": frozenset({"name", "location", "project"}),
    "gcp:cloudrunv2/job:Job": frozenset({"name", "location", "project"}),
    "gcp:artifactregistry/repository:Repository": frozenset(
        {"repositoryId", "location", "format", "kmsKeyName", "mode", "project"}
    ),
    "gcp:kms/cryptoKey:CryptoKey": frozenset(
        {"name", "keyRing", "purpose", "importOnly", "skipInitialVersionCreation"}
    ),
    "gcp:kms/keyRing:KeyRing": frozenset({"name", "location", "project"}),
    "gcp:secretmanager/secret:Secret": frozenset({"secretId", "replication", "project"}),
    "gcp:serviceaccount/account:Account": frozenset({"accountId", "project"}),
    "gcp:workflows/workflow:Workflow": frozenset({"name", "region", "project"}),
    # --- Azure (pulumi_azure_native: a resource's name, group and location are its id)
    "azure-native:storage:StorageAccount": frozenset(
        {"accountName", "resourceGroupName", "location"}
    ),
    "azure-native:storage:BlobContainer": frozenset(
        {"containerName", "accountName", "resourceGroupName"}
    ),
    "azure-native:containerregistry:Registry": frozenset(
        {"registryName", "resourceGroupName", "location"}
    ),
    "azure-native:keyvault:Vault": frozenset({"vaultName", "resourceGroupName", "location"}),
    "azure-native:machinelearningservices:Workspace": frozenset(
        {"workspaceName", "resourceGroupName", "location"}
    ),
    "azure-native:machinelearningservices:OnlineEndpoint": frozenset(
        {"endpointName", "workspaceName", "resourceGroupName", "location"}
    ),
    "azure-native:machinelearningservices:Compute": frozenset(
        {"computeName", "workspaceName", "resourceGroupName", "location"}
    ),
    # --- Local backend (its dynamic providers' diff() returns these as replaces)
    "pulumi-python:dynamic/mlops:LocalStoreDirectory": frozenset({"path"}),
    "pulumi-python:dynamic/mlops:LocalMlflowServer": frozenset({"data_dir"}),
}
"""Input paths (patterns) whose change replaces a resource, by type token."""

IMMUTABLE_TYPES: frozenset[str] = frozenset(
    {
        # A SageMaker training job runs at create; every argument forces a new job.
        "aws:sagemaker/trainingJob:TrainingJob",
        # SageMaker models and endpoint configurations cannot be updated, only replaced.
        "aws:sagemaker/model:Model",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        # An Azure ML job is submitted by its PUT; almost nothing can change afterwards.
        "azure-native:machinelearningservices:Job",
        "azure-native:machinelearningservices:ComponentVersion",
    }
)
"""Types where any input change except tags replaces the resource."""

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        # Our components that own data.
        "mlops:index:ArtifactStore",
        "mlops:index:TrackingServer",
        "pulumi-python:dynamic/mlops:LocalStoreDirectory",
        "pulumi-python:dynamic/mlops:LocalMlflowServer",
        "fake:index:Bucket",
        "fake:index:TrackingServer",
        "fake:index:Registry",
        # AWS
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
        # Google Cloud
        "gcp:storage/bucket:Bucket",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:sql/database:Database",
        "gcp:artifactregistry/repository:Repository",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:kms/keyRing:KeyRing",
        "gcp:secretmanager/secret:Secret",
        "gcp:filestore/instance:Instance",
        # Azure
        "azure-native:storage:StorageAccount",
        "azure-native:storage:BlobContainer",
        "azure-native:containerregistry:Registry",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:dbforpostgresql:Server",
        "azure-native:machinelearningservices:Workspace",
    }
)
"""Types that hold data: replacing or deleting one loses what it holds."""


def is_stateful_type(type_token: str) -> bool:
    """Whether resources of ``type_token`` hold data."""
    return type_token in STATEFUL_TYPES


def replace_reasons(
    type_token: str, changed: Iterable[str], replace_on_changes: Iterable[str] = ()
) -> list[str]:
    """Returns the changed paths that replace a resource of ``type_token``.

    Args:
        type_token: The resource's type.
        changed: Its changed input paths.
        replace_on_changes: Its ``replace_on_changes`` resource option.
    """
    option = list(replace_on_changes)
    table = REPLACED_ON.get(type_token, frozenset())
    immutable = type_token in IMMUTABLE_TYPES
    return [
        path
        for path in changed
        if matches(path, option)
        or matches(path, table)
        or (immutable and not matches(path, _TAG_INPUTS))
    ]
