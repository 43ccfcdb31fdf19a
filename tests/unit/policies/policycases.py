"""One compliant and one deliberately broken fixture per rule, built by hand.

Each case names the rule, a good scenario (the rule passes), a bad one (the rule must
catch it) and a fragment of the violation message. ``test_every_rule_has_a_case``
keeps this table complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from mlops_infra.plan import PlannedResource, StackFacts
from mlops_infra.plan.facts import ComputeFact, EndpointFact, ImageFact, LimitsFact

__all__ = ["CASES", "Case", "Scenario"]

TAGS = {"managed-by": "mlops-infra", "mlops-environment": "dev", "mlops-stack": "dev"}
DEV = StackFacts(cloud="aws", environment="dev", tier="development")
PROD = StackFacts(cloud="aws", environment="prod", tier="production", protect_stateful=True)
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/plan"


def res(
    type_: str, inputs: dict[str, Any] | None = None, name: str = "res", **options: Any
) -> PlannedResource:
    """A planned resource of ``type_``."""
    return PlannedResource(
        urn=f"urn:pulumi:dev::mlops::{type_}::{name}",
        type=type_,
        name=name,
        custom=not type_.startswith("mlops:index:"),
        inputs=inputs or {},
        **options,
    )


def attached(type_: str, inputs: dict[str, Any], to: PlannedResource, name: str) -> PlannedResource:
    """A resource that depends on ``to`` (as a bucket's side resources do)."""
    return res(type_, {"bucket": f"{to.name}-id", **inputs}, name=name, depends_on=(to.urn,))


def doc(*statements: dict[str, Any]) -> str:
    """An IAM policy document as the SDK sends it (a JSON string)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass(frozen=True)
class Scenario:
    """A resource, its stack's facts and the other resources of the stack."""

    resource: PlannedResource
    facts: StackFacts = DEV
    others: tuple[PlannedResource, ...] = field(default_factory=tuple[PlannedResource, ...])


@dataclass(frozen=True)
class Case:
    """A rule's good and broken fixtures."""

    rule: str
    good: Scenario
    bad: Scenario
    says: str

    def __str__(self) -> str:
        return self.rule


BUCKET = res("aws:s3/bucket:Bucket", {"bucket": "ml-artifacts", "tags": TAGS}, name="store")
_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
_PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_PAB_ON: dict[str, Any] = dict.fromkeys(_PAB_FLAGS, True)
_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def _sse(algorithm: str) -> dict[str, Any]:
    default: dict[str, Any] = {"sseAlgorithm": algorithm}
    if algorithm == "aws:kms":
        default["kmsMasterKeyId"] = KEY_ARN
    return {"rules": [{"applyServerSideEncryptionByDefault": default}]}


_TLS_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::ml-artifacts", "arn:aws:s3:::ml-artifacts/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
_S3_READ = {
    "Effect": "Allow",
    "Action": ["s3:GetObject"],
    "Resource": "arn:aws:s3:::ml-artifacts/*",
}
_TRUST_SAGEMAKER = {
    "Effect": "Allow",
    "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole",
}

_GPU = ComputeFact(
    kind="cluster",
    name="gpu",
    component="mlops-cluster-gpu",
    gpu="a100-80gb",
    gpu_count=8,
    max_nodes=2,
)
_CLUSTER = res("mlops:index:TrainingCluster", name="mlops-cluster-gpu")
_STACK = res("mlops:index:MlopsStack", name="mlops")
_ENDPOINT = res("mlops:index:ServingEndpoint", name="mlops-endpoint-churn")


_VPC_RES = res("aws:ec2/vpc:Vpc", {"cidrBlock": "10.40.0.0/16"}, name="vpc")
_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
_DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


_PG_LOG_FLAGS = [
    {"name": name, "value": value}
    for name, value in (
        ("log_checkpoints", "on"),
        ("log_connections", "on"),
        ("log_disconnections", "on"),
        ("log_lock_waits", "on"),
        ("log_hostname", "on"),
        ("log_min_messages", "error"),
        ("log_min_error_statement", "error"),
    )
]
_PGAUDIT = [
    {"name": "cloudsql.enable_pgaudit", "value": "on"},
    {"name": "pgaudit.log", "value": "ddl,role"},
]
_GCP_NET = res("gcp:compute/network:Network", {"autoCreateSubnetworks": False}, name="net")


def _gcp_firewall(name: str, action: str, source: str = "0.0.0.0/0") -> PlannedResource:
    return res(
        "gcp:compute/firewall:Firewall",
        {"network": "net-id", action: [{"protocol": "all"}], "sourceRanges": [source]},
        name=name,
    )


def _with(base: Any, **changes: Any) -> Any:
    return replace(base, **changes)


def _endpoint(**extra: Any) -> StackFacts:
    values: dict[str, Any] = {
        "name": "churn",
        "component": "mlops-endpoint-churn",
        "model": "churn",
        "alias": "champion",
        "gated": True,
        "min_replicas": 2,
    }
    values.update(extra)
    return _with(PROD, endpoints=(EndpointFact(**values),))


def _s(resource: PlannedResource, facts: StackFacts = DEV, *others: PlannedResource) -> Scenario:
    return Scenario(resource, facts, tuple(others))


def _one(
    rule: str,
    type_: str,
    good: dict[str, Any],
    bad: dict[str, Any],
    says: str,
    facts: StackFacts = DEV,
) -> Case:
    return Case(rule, _s(res(type_, good), facts), _s(res(type_, bad), facts), says)


_AML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
_AML_CPU = res(
    "azure-native:machinelearningservices:Compute", {"computeName": "cpu"}, name="mlops-cluster-cpu"
)

CASES: tuple[Case, ...] = (
    # --- mlops
    Case(
        "MLOPS-GPU-001",
        _s(_CLUSTER, _with(DEV, compute=(_GPU,))),
        _s(_CLUSTER, _with(DEV, compute=(_GPU,), limits=LimitsFact(max_gpus_per_node=4))),
        "8 x a100-80gb per node",
    ),
    Case(
        "MLOPS-GPU-002",
        _s(_STACK, _with(DEV, compute=(_GPU,))),
        _s(_STACK, _with(DEV, compute=(_with(_GPU, max_nodes=10),))),
        "80 GPUs at full scale",
    ),
    Case(
        "MLOPS-COST-001",
        _s(_STACK, _with(DEV, compute=(_GPU,), limits=LimitsFact(max_hourly_usd=100))),
        _s(
            _STACK,
            _with(DEV, compute=(_with(_GPU, max_nodes=3),), limits=LimitsFact(max_hourly_usd=100)),
        ),
        "limits.max_hourly_usd is $100.00",
    ),
    Case(
        "MLOPS-TAG-001",
        _s(BUCKET),
        _s(res("aws:s3/bucket:Bucket", {"tags": {"managed-by": "mlops-infra"}})),
        "missing tags: mlops-environment, mlops-stack",
    ),
    _one(
        "MLOPS-SECRET-001",
        "fake:index:TrackingServer",
        {
            "adminPassword": "[secret]",
            "passwordConfigKey": "mlops:pw",
            "environment": {"MLFLOW_TRACKING_PASSWORD": "[secret]"},
        },
        {"environment": {"MLFLOW_TRACKING_PASSWORD": "hunter2-plaintext"}},
        "plaintext secret in environment.MLFLOW_TRACKING_PASSWORD",
    ),
    Case(
        "MLOPS-PROT-001",
        _s(res("aws:s3/bucket:Bucket", {"tags": TAGS}, protect=True, retain_on_delete=True), PROD),
        _s(res("aws:s3/bucket:Bucket", {"tags": TAGS}, protect=True), PROD),
        "without retain_on_delete",
    ),
    Case(
        "MLOPS-SERVE-001",
        _s(_ENDPOINT, _endpoint()),
        _s(_ENDPOINT, _endpoint(public=True)),
        "is public",
    ),
    Case(
        "MLOPS-SERVE-002",
        _s(_ENDPOINT, _endpoint()),
        _s(_ENDPOINT, _endpoint(gated=False)),
        "no promotion gate",
    ),
    Case(
        "MLOPS-SERVE-003",
        _s(_ENDPOINT, _endpoint()),
        _s(_ENDPOINT, _endpoint(min_replicas=1)),
        "keeps 1 replica",
    ),
    Case(
        "MLOPS-TRACK-001",
        _s(
            res("mlops:index:TrackingServer", name="mlops-tracking"), _with(DEV, tracking_auth=True)
        ),
        _s(
            res("mlops:index:TrackingServer", name="mlops-tracking"),
            _with(DEV, tracking_auth=False),
        ),
        "unauthenticated",
    ),
    Case(
        "MLOPS-STORE-001",
        _s(res("mlops:index:ArtifactStore", name="mlops-store"), DEV),
        _s(
            res("mlops:index:ArtifactStore", name="mlops-store"), _with(DEV, store_versioning=False)
        ),
        "versioning is off",
    ),
    Case(
        "MLOPS-STORE-002",
        _s(res("mlops:index:TrackingServer", name="mlops-tracking"), PROD),
        _s(
            res("mlops:index:TrackingServer", name="mlops-tracking"),
            _with(PROD, tracking_purge_on_delete=True),
        ),
        "purge_on_delete is on",
    ),
    Case(
        "MLOPS-IMG-001",
        _s(
            res("mlops:index:Pipeline", name="mlops-pipeline-churn"),
            _with(
                DEV,
                images=(
                    ImageFact(
                        "mlops-pipeline-churn",
                        "pipeline churn, step train",
                        "ecr.example/train@sha256:" + "a" * 64,
                    ),
                ),
            ),
        ),
        _s(
            res("mlops:index:Pipeline", name="mlops-pipeline-churn"),
            _with(
                DEV,
                images=(
                    ImageFact(
                        "mlops-pipeline-churn",
                        "pipeline churn, step train",
                        "ecr.example/train:latest",
                    ),
                ),
            ),
        ),
        "pipeline churn, step train: ecr.example/train:latest",
    ),
    # --- local
    _one(
        "MLOPS-LOCAL-001",
        "pulumi-python:dynamic/mlops:LocalMlflowServer",
        {"host": "127.0.0.1"},
        {"host": "0.0.0.0"},  # noqa: S104 - the broken fixture
        "listens on 0.0.0.0",
    ),
    _one(
        "MLOPS-LOCAL-002",
        "pulumi-python:dynamic/mlops:LocalModelServer",
        {"host": "localhost"},
        {"host": "10.0.0.5"},
        "listens on 10.0.0.5",
    ),
    _one(
        "MLOPS-LOCAL-003",
        "pulumi-python:dynamic/mlops:LocalStoreDirectory",
        {"path": "<project>/.mlops/dev/artifacts"},
        {"path": "/tmp/artifacts"},
        "shared temporary folder",
    ),
    # --- aws: s3
    Case(
        "MLOPS-AWS-S3-001",
        _s(BUCKET, DEV, attached(_PAB, _PAB_ON, BUCKET, "pab")),
        _s(BUCKET, DEV, attached(_PAB, {**_PAB_ON, "blockPublicPolicy": False}, BUCKET, "pab")),
        "blockPublicPolicy off",
    ),
    Case(
        "MLOPS-AWS-S3-002",
        _s(BUCKET, DEV, attached(_SSE, _sse("aws:kms"), BUCKET, "sse")),
        _s(BUCKET, DEV, attached(_SSE, _sse("AES256"), BUCKET, "sse")),
        "not aws:kms",
    ),
    Case(
        "MLOPS-AWS-S3-003",
        _s(
            BUCKET,
            DEV,
            attached(
                "aws:s3/bucketVersioning:BucketVersioning",
                {"versioningConfiguration": {"status": "Enabled"}},
                BUCKET,
                "v",
            ),
        ),
        _s(
            BUCKET,
            DEV,
            attached(
                "aws:s3/bucketVersioning:BucketVersioning",
                {"versioningConfiguration": {"status": "Suspended"}},
                BUCKET,
                "v",
            ),
        ),
        "versioning is not enabled",
    ),
    Case(
        "MLOPS-AWS-S3-004",
        _s(
            BUCKET,
            DEV,
            attached(
                "aws:s3/bucketPolicy:BucketPolicy", {"policy": doc(_TLS_DENY)}, BUCKET, "policy"
            ),
        ),
        _s(
            BUCKET,
            DEV,
            attached(
                "aws:s3/bucketPolicy:BucketPolicy", {"policy": doc(_S3_READ)}, BUCKET, "policy"
            ),
        ),
        "without TLS",
    ),
    _one(
        "MLOPS-AWS-S3-005",
        "aws:s3/bucketAclV2:BucketAclV2",
        {"acl": "private"},
        {"acl": "public-read"},
        "public-read",
    ),
    Case(
        "MLOPS-AWS-S3-006",
        _s(
            BUCKET,
            DEV,
            attached(
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                {"rules": [{"id": "tmp", "status": "Enabled"}]},
                BUCKET,
                "lc",
            ),
        ),
        _s(BUCKET, DEV),
        "no enabled lifecycle rule",
    ),
    _one(
        "MLOPS-AWS-S3-007",
        "aws:s3/bucket:Bucket",
        {"forceDestroy": False},
        {"forceDestroy": True},
        "forceDestroy",
        PROD,
    ),
    # --- aws: kms, ecr, secrets
    _one(
        "MLOPS-AWS-KMS-001",
        "aws:kms/key:Key",
        {"enableKeyRotation": True},
        {"enableKeyRotation": False},
        "rotation is off",
    ),
    _one(
        "MLOPS-AWS-KMS-002",
        "aws:kms/key:Key",
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            )
        },
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                }
            )
        },
        "any principal",
    ),
    _one(
        "MLOPS-AWS-KMS-003",
        "aws:kms/key:Key",
        {"deletionWindowInDays": 30},
        {"deletionWindowInDays": 7},
        "deletion window of 7 days",
        PROD,
    ),
    _one(
        "MLOPS-AWS-ECR-001",
        "aws:ecr/repository:Repository",
        {"imageTagMutability": "IMMUTABLE"},
        {"imageTagMutability": "MUTABLE"},
        "MUTABLE",
    ),
    _one(
        "MLOPS-AWS-ECR-002",
        "aws:ecr/repository:Repository",
        {"imageScanningConfiguration": {"scanOnPush": True}},
        {},
        "not scanned",
    ),
    _one(
        "MLOPS-AWS-ECR-003",
        "aws:ecr/repository:Repository",
        {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]},
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
        "AES256",
    ),
    Case(
        "MLOPS-AWS-ECR-004",
        _s(
            res("aws:ecr/repository:Repository", {"name": "images"}, name="repo"),
            DEV,
            res(
                "aws:ecr/lifecyclePolicy:LifecyclePolicy",
                {"repository": "images"},
                name="repo-lifecycle",
            ),
        ),
        _s(res("aws:ecr/repository:Repository", {"name": "images"}, name="repo")),
        "no lifecycle policy",
    ),
    _one(
        "MLOPS-AWS-SECRETS-001",
        "aws:secretsmanager/secret:Secret",
        {"kmsKeyId": KEY_ARN},
        {},
        "AWS-managed key",
    ),
    _one(
        "MLOPS-AWS-SECRETS-002",
        "aws:secretsmanager/secret:Secret",
        {"recoveryWindowInDays": 7},
        {"recoveryWindowInDays": 0},
        "recovery window of 0 days",
    ),
    # --- aws: iam
    _one(
        "MLOPS-AWS-IAM-001",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": doc(_S3_READ)},
        {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        "full administrator",
    ),
    _one(
        "MLOPS-AWS-IAM-002",
        "aws:iam/policy:Policy",
        {"policy": doc(_S3_READ)},
        {
            "policy": doc(
                {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::ml-artifacts/*"}
            )
        },
        "wildcard actions s3:*",
    ),
    _one(
        "MLOPS-AWS-IAM-003",
        "aws:iam/policy:Policy",
        {
            "policy": doc(
                _S3_READ,
                {
                    "Effect": "Allow",
                    "Action": ["ecr:GetAuthorizationToken", "sagemaker:ListModels"],
                    "Resource": "*",
                },
            )
        },
        {
            "policy": doc(
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}
            )
        },
        "s3:PutObject allowed on every resource",
    ),
    _one(
        "MLOPS-AWS-IAM-004",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly", "role": "r"},
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": "r"},
        "AdministratorAccess",
    ),
    _one(
        "MLOPS-AWS-IAM-005",
        "aws:iam/role:Role",
        {"assumeRolePolicy": doc(_TRUST_SAGEMAKER)},
        {
            "assumeRolePolicy": doc(
                {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}
            )
        },
        "any principal",
    ),
    _one(
        "MLOPS-AWS-IAM-006",
        "aws:iam/role:Role",
        {"permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary"},
        {},
        "permissions boundary is unset",
        _with(DEV, permissions_boundary="arn:aws:iam::123456789012:policy/boundary"),
    ),
    # --- aws: sagemaker
    _one(
        "MLOPS-AWS-SAGEMAKER-001",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"kmsKeyArn": KEY_ARN, "productionVariants": [{"instanceType": "ml.m5.xlarge"}]},
        {
            "productionVariants": [
                {"instanceType": "ml.m5.xlarge"},
                {"instanceType": "ml.g5.xlarge"},
            ]
        },
        "no kms_key_arn for the storage of ml.m5.xlarge",
    ),
    _one(
        "MLOPS-AWS-SAGEMAKER-002",
        "aws:sagemaker/model:Model",
        {"enableNetworkIsolation": True},
        {"enableNetworkIsolation": False},
        "enable_network_isolation",
    ),
    _one(
        "MLOPS-AWS-SAGEMAKER-003",
        "pulumi-python:dynamic/mlops:SageMakerTrainingRun",
        {
            "request": {
                "OutputDataConfig": {"KmsKeyId": KEY_ARN},
                "ResourceConfig": {"InstanceType": "ml.g5.12xlarge"},
            }
        },
        {
            "request": {
                "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
                "ResourceConfig": {"InstanceType": "ml.p3.2xlarge"},
            }
        },
        "OutputDataConfig.KmsKeyId, ResourceConfig.VolumeKmsKeyId",
    ),
    _one(
        "MLOPS-AWS-SAGEMAKER-004",
        "pulumi-python:dynamic/mlops:SageMakerTrainingRun",
        {
            "request": {
                "ResourceConfig": {"InstanceCount": 4},
                "EnableInterContainerTrafficEncryption": True,
            }
        },
        {"request": {"ResourceConfig": {"InstanceCount": 4}}},
        "4 nodes exchange data unencrypted",
    ),
    _one(
        "MLOPS-AWS-SAGEMAKER-005",
        "aws:sagemaker/model:Model",
        {"vpcConfig": {"subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}},
        {},
        "outside the stack's private network",
        _with(DEV, network="create"),
    ),
    # --- aws: rds, network, logs
    _one(
        "MLOPS-AWS-RDS-001",
        "aws:rds/instance:Instance",
        {"storageEncrypted": True},
        {"storageEncrypted": False},
        "not encrypted",
    ),
    _one(
        "MLOPS-AWS-RDS-002",
        "aws:rds/instance:Instance",
        {"publiclyAccessible": False},
        {"publiclyAccessible": True},
        "public address",
    ),
    _one(
        "MLOPS-AWS-RDS-003",
        "aws:rds/instance:Instance",
        {"deletionProtection": True},
        {"deletionProtection": False},
        "deletion protection is off",
        PROD,
    ),
    _one(
        "MLOPS-AWS-RDS-004",
        "aws:rds/instance:Instance",
        {"backupRetentionPeriod": 7},
        {"backupRetentionPeriod": 0},
        "backups are off",
    ),
    _one(
        "MLOPS-AWS-EC2-001",
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "ingress": [
                {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["10.40.0.0/16"]}
            ]
        },
        {
            "ingress": [
                {"fromPort": 5000, "toPort": 5000, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}
            ]
        },
        "on ports 5000-5000",
    ),
    _one(
        "MLOPS-AWS-LB-001",
        "aws:lb/listener:Listener",
        {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
        {"protocol": "HTTP", "defaultActions": [{"type": "forward"}]},
        "plain HTTP",
    ),
    _one(
        "MLOPS-AWS-LOGS-001",
        "aws:cloudwatch/logGroup:LogGroup",
        {"kmsKeyId": KEY_ARN},
        {},
        "not encrypted",
    ),
    _one(
        "MLOPS-AWS-LOGS-002",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365},
        {"retentionInDays": 0},
        "kept forever",
    ),
    Case(
        "MLOPS-AWS-VPC-001",
        _s(_VPC_RES, PROD, res(_FLOW_LOG, {"vpcId": "vpc-id"}, name="flow-log")),
        _s(_VPC_RES, PROD),
        "no flow log",
    ),
    Case(
        "MLOPS-AWS-VPC-002",
        _s(_VPC_RES, DEV, res(_DEFAULT_SG, {"vpcId": "vpc-id"}, name="default-sg")),
        _s(
            _VPC_RES,
            DEV,
            res(
                _DEFAULT_SG, {"vpcId": "vpc-id", "egress": [{"protocol": "-1"}]}, name="default-sg"
            ),
        ),
        "default security group has rules",
    ),
    _one(
        "MLOPS-AWS-SCHED-001",
        "aws:scheduler/schedule:Schedule",
        {"kmsKeyArn": KEY_ARN},
        {},
        "AWS-owned key",
    ),
    # --- gcp
    _one(
        "MLOPS-GCP-GCS-001",
        "gcp:storage/bucket:Bucket",
        {"uniformBucketLevelAccess": True},
        {},
        "uniform_bucket_level_access",
    ),
    _one(
        "MLOPS-GCP-GCS-002",
        "gcp:storage/bucket:Bucket",
        {"publicAccessPrevention": "enforced"},
        {"publicAccessPrevention": "inherited"},
        "not enforced",
    ),
    _one(
        "MLOPS-GCP-GCS-003",
        "gcp:storage/bucket:Bucket",
        {"versioning": {"enabled": True}},
        {"versioning": {"enabled": False}},
        "versioning is off",
    ),
    _one(
        "MLOPS-GCP-GCS-004",
        "gcp:storage/bucket:Bucket",
        {"encryption": {"defaultKmsKeyName": "projects/p/k"}},
        {},
        "Google-managed key",
    ),
    _one(
        "MLOPS-GCP-GCS-005",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        {
            "member": "serviceAccount:train@p.iam.gserviceaccount.com",
            "role": "roles/storage.objectViewer",
        },
        {"member": "allUsers", "role": "roles/storage.objectViewer"},
        "to allUsers",
    ),
    _one(
        "MLOPS-GCP-SQL-001",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"settings": {"ipConfiguration": {"ipv4Enabled": False}}},
        {"settings": {}},
        "public IPv4",
    ),
    _one(
        "MLOPS-GCP-SQL-002",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"settings": {"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY"}}},
        {"settings": {"ipConfiguration": {"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}}},
        "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
    ),
    _one(
        "MLOPS-GCP-SQL-003",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"settings": {"backupConfiguration": {"enabled": True}}},
        {"settings": {}},
        "backups are off",
    ),
    _one(
        "MLOPS-GCP-SQL-004",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"settings": {"deletionProtectionEnabled": True}},
        {"deletionProtection": False, "settings": {"deletionProtectionEnabled": True}},
        "deletion protection is off",
        _with(PROD, cloud="gcp"),
    ),
    _one(
        "MLOPS-GCP-SQL-005",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"databaseVersion": "POSTGRES_16", "settings": {"databaseFlags": _PG_LOG_FLAGS}},
        {"databaseVersion": "POSTGRES_16", "settings": {"databaseFlags": _PG_LOG_FLAGS[1:-1]}},
        "logging flags not set: log_checkpoints=on, log_min_error_statement=error",
        _with(PROD, cloud="gcp"),
    ),
    _one(
        "MLOPS-GCP-SQL-006",
        "gcp:sql/databaseInstance:DatabaseInstance",
        {"databaseVersion": "POSTGRES_16", "settings": {"databaseFlags": _PGAUDIT}},
        {"databaseVersion": "POSTGRES_16", "settings": {"databaseFlags": _PGAUDIT[1:]}},
        "pgAudit is off",
        _with(PROD, cloud="gcp"),
    ),
    Case(
        "MLOPS-GCP-VPC-001",
        _s(
            _GCP_NET,
            DEV,
            _gcp_firewall("deny-all", "denies"),
            _gcp_firewall("internal", "allows", "10.40.0.0/17"),
        ),
        _s(_GCP_NET, DEV, _gcp_firewall("internal", "allows", "10.40.0.0/17")),
        "no explicit deny-all ingress",
    ),
    _one(
        "MLOPS-GCP-RUN-001",
        "gcp:cloudrunv2/service:Service",
        {"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"},
        {"ingress": "INGRESS_TRAFFIC_ALL"},
        "from the internet",
    ),
    _one(
        "MLOPS-GCP-RUN-002",
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
        {"member": "serviceAccount:caller@p.iam.gserviceaccount.com", "role": "roles/run.invoker"},
        {"member": "allUsers", "role": "roles/run.invoker"},
        "roles/run.invoker to allUsers",
    ),
    _one(
        "MLOPS-GCP-AR-001",
        "gcp:artifactregistry/repository:Repository",
        {"format": "DOCKER", "dockerConfig": {"immutableTags": True}},
        {"format": "DOCKER"},
        "can be moved",
    ),
    _one(
        "MLOPS-GCP-AR-002",
        "gcp:artifactregistry/repository:Repository",
        {"kmsKeyName": "projects/p/k"},
        {},
        "Google-managed key",
    ),
    _one(
        "MLOPS-GCP-AR-003",
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        {
            "member": "serviceAccount:a@p.iam.gserviceaccount.com",
            "role": "roles/artifactregistry.reader",
        },
        {"member": "allAuthenticatedUsers", "role": "roles/artifactregistry.reader"},
        "allAuthenticatedUsers",
    ),
    _one(
        "MLOPS-GCP-KMS-001",
        "gcp:kms/cryptoKey:CryptoKey",
        {"rotationPeriod": "7776000s"},
        {"rotationPeriod": "31536000s"},
        "31536000s",
    ),
    # --- azure
    _one(
        "MLOPS-AZURE-ST-001",
        "azure-native:storage:StorageAccount",
        {"enableHttpsTrafficOnly": True},
        {"enableHttpsTrafficOnly": False},
        "plain HTTP",
    ),
    _one(
        "MLOPS-AZURE-ST-002",
        "azure-native:storage:StorageAccount",
        {"minimumTlsVersion": "TLS1_2"},
        {"minimumTlsVersion": "TLS1_0"},
        "TLS1_0",
    ),
    _one(
        "MLOPS-AZURE-ST-003",
        "azure-native:storage:StorageAccount",
        {"allowBlobPublicAccess": False},
        {"allowBlobPublicAccess": True},
        "anonymous blob access",
    ),
    _one(
        "MLOPS-AZURE-ST-004",
        "azure-native:storage:StorageAccount",
        {"allowSharedKeyAccess": False},
        {},
        "account keys",
    ),
    _one(
        "MLOPS-AZURE-ST-005",
        "azure-native:storage:BlobContainer",
        {"publicAccess": "None"},
        {"publicAccess": "Blob"},
        "public access level is Blob",
    ),
    _one(
        "MLOPS-AZURE-ACR-001",
        "azure-native:containerregistry:Registry",
        {"adminUserEnabled": False},
        {"adminUserEnabled": True},
        "admin user",
    ),
    _one(
        "MLOPS-AZURE-ACR-002",
        "azure-native:containerregistry:Registry",
        {"anonymousPullEnabled": False},
        {"anonymousPullEnabled": True},
        "anonymously",
    ),
    _one(
        "MLOPS-AZURE-KV-001",
        "azure-native:keyvault:Vault",
        {"properties": {"enablePurgeProtection": True}},
        {"properties": {}},
        "purge protection is off",
        PROD,
    ),
    _one(
        "MLOPS-AZURE-ML-001",
        "azure-native:machinelearningservices:Workspace",
        {"publicNetworkAccess": "Disabled"},
        {"publicNetworkAccess": "Enabled"},
        "reachable from the internet",
    ),
    _one(
        "MLOPS-AZURE-ML-002",
        "azure-native:machinelearningservices:OnlineEndpoint",
        {"properties": {"publicNetworkAccess": "Disabled", "authMode": "AADToken"}},
        {"properties": {"authMode": "Key"}},
        "accepts public traffic",
    ),
    _one(
        "MLOPS-AZURE-NET-001",
        "azure-native:keyvault:Vault",
        {"properties": {"publicNetworkAccess": "Disabled"}},
        {"properties": {"publicNetworkAccess": "Enabled"}},
        "public network access is Enabled in production",
        PROD,
    ),
    Case(
        "MLOPS-AZURE-NET-002",
        _s(res(_AML_WORKSPACE, {"publicNetworkAccess": "Disabled"})),
        _s(
            res(_AML_WORKSPACE, {"publicNetworkAccess": "Disabled"}),
            DEV,
            res("azure-native:storage:Blob", {"blobName": "code.py"}, name="blob"),
        ),
        "uploads 1 code package blob(s)",
    ),
    Case(
        "MLOPS-AZURE-NET-003",
        _s(
            res(
                _AML_WORKSPACE,
                {
                    "publicNetworkAccess": "Disabled",
                    "containerRegistry": "cr",
                    "imageBuildCompute": "cpu",
                },
            ),
            DEV,
            _AML_CPU,
        ),
        _s(res(_AML_WORKSPACE, {"publicNetworkAccess": "Disabled", "containerRegistry": "cr"})),
        "image_build_compute",
    ),
    Case(
        "MLOPS-AZURE-NET-004",
        _s(
            res(_AML_WORKSPACE, {"publicNetworkAccess": "Disabled"}),
            DEV,
            _AML_CPU,
            res("azure-native:network:NatGateway", name="mlops-nat"),
        ),
        _s(res(_AML_WORKSPACE, {"publicNetworkAccess": "Disabled"}), DEV, _AML_CPU),
        "clusters cpu run in an adopted network",
    ),
)
"""Every rule's good and broken fixture."""
