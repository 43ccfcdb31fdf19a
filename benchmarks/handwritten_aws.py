"""The ``dev`` AWS stack written by hand: plain ``pulumi_aws`` resources, no components.

This is side (b) of ``benchmarks/overhead.py``: what a platform engineer would write
without mlops-infra for the stack ``stacks/Pulumi.dev.yaml`` describes (artifact store,
SageMaker MLflow tracking server, one spot CPU cluster used by one scheduled four-step
pipeline, one gated endpoint). Every value is spelled out here; nothing is derived from
mlops-infra's specs or backends, and nothing is recorded from a run of the library. The
only shared pieces are the dynamic resource classes both programs must register, whose
logic (what they do at ``up``) is not what the benchmark measures: the promotion gate and
the registry alias (``mlops_infra.gates.PromotionDecision``, ``ModelAlias``), the
pipeline's run (``SageMakerPipelineRun``), the serving image's build (``ImageBuild``) and
the endpoint's deployment (``SageMakerDeployment``: model, endpoint configuration,
blue/green endpoint and autoscaling, created through the SageMaker API at ``up``). Their
inputs are spelled out here like every other resource's. The steps' runtime image is
built from ``mlops_infra.images.runtime_source`` (the Dockerfile, requirement lines and
package files a hand-written stack would have to ship as well; its tag is their hash).

It registers the same provider resources (types, names, inputs, options, dependencies)
as the library does for that stack, but each one a child of the stack, not of a
component; ``overhead.py`` checks that before it times anything.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pulumi

from mlops_infra.backends.aws.endpoint_deployment import SageMakerDeployment
from mlops_infra.backends.aws.image_build import ImageBuild
from mlops_infra.backends.aws.pipeline_run import SageMakerPipelineRun
from mlops_infra.gates import AliasInputs, DecisionInputs, ModelAlias, PromotionDecision
from mlops_infra.images import read_requirements, runtime_source

# pulumi_aws 7.51 warns at import of ``s3`` about resources we do not use.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import pulumi_aws as aws  # noqa: TID251 - the point of this file
    from pulumi_aws import (  # noqa: TID251
        cloudwatch,
        codebuild,
        ecr,
        iam,
        kms,
        s3,
        sagemaker,
        scheduler,
    )

    _ = (s3.Bucket, ecr.Repository, sagemaker.Pipeline, scheduler.Schedule, iam.Role)

__all__ = ["SUBMODULES", "program"]

SUBMODULES = (
    "cloudwatch",
    "codebuild",
    "ecr",
    "iam",
    "kms",
    "s3",
    "sagemaker",
    "scheduler",
)
"""The ``pulumi_aws`` submodules this program (and the library's dev stack) uses."""

STACK = "dev"
ENVIRONMENT = "dev"
TAGS = {
    "managed-by": "mlops-infra",
    "mlops-environment": ENVIRONMENT,
    "mlops-stack": STACK,
    "team": "ml-platform",
    "cost-center": "ml-dev",
}
CODE_FILES = (
    "diagnosis/__init__.py",
    "diagnosis/evaluate.py",
    "diagnosis/features.py",
    "diagnosis/featurize.py",
    "diagnosis/model.py",
    "diagnosis/register.py",
    "diagnosis/requirements.txt",
    "diagnosis/train.py",
)
STEPS: dict[str, dict[str, Any]] = {
    "featurize": {
        "component": "diagnosis.featurize",
        "depends_on": [],
        "inputs": [],  # every ancestor's outputs
        "parameters": {"seed": 7, "test_size": 0.25},
        "instance": "ml.m5.xlarge",
        "spot": False,
    },
    "train": {
        "component": "diagnosis.train",
        "depends_on": ["featurize"],
        "inputs": ["featurize"],
        "parameters": {"c": 1, "seed": 7},
        "instance": "ml.m5.xlarge",
        "spot": True,
    },
    "evaluate": {
        "component": "diagnosis.evaluate",
        "depends_on": ["train"],
        "inputs": ["featurize", "train"],
        "parameters": {"seed": 7},
        "instance": "ml.m5.xlarge",
        "spot": False,
    },
    "register": {
        "component": "diagnosis.register",
        "depends_on": ["evaluate"],
        "inputs": ["featurize", "train", "evaluate"],
        "parameters": {"seed": 7},
        "instance": "ml.m5.xlarge",
        "spot": False,
    },
}
MLFLOW_ACTIONS = sorted(
    f"sagemaker-mlflow:{action}"
    for action in (
        "CreateExperiment", "GetExperimentByName", "SearchRuns", "CreateRun", "GetRun",
        "UpdateRun", "LogBatch", "CreateRegisteredModel", "GetRegisteredModel",
        "CreateModelVersion", "SetModelVersionTag",
    )
)  # fmt: skip
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
CLIENT_AUTH = "mlops_infra.backends.aws.mlflow_auth:client_environment"
"""How MLflow clients at ``up`` (gate, alias, run) sign requests to SageMaker MLflow."""
SERVING_BUILDSPEC = """\
version: 0.2
phases:
  install:
    commands:
      - pip install --quiet "mlflow==${MLFLOW_VERSION}" boto3
  pre_build:
    commands:
      - aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE%%/*}"
  build:
    commands:
      - mlflow models generate-dockerfile --model-uri "${MODEL_URI}" --output-directory context
      - docker build --tag "${IMAGE}" context
      - docker push "${IMAGE}"
"""
"""What the builder runs: the served model's image with its dependencies, pushed."""

CONTEXT_BUILDSPEC = """\
version: 0.2
phases:
  pre_build:
    commands:
      - aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE%%/*}"
      - mkdir context && aws s3 cp "${CONTEXT_URI}" - | tar -xz -C context
  build:
    commands:
      - docker build --tag "${IMAGE}" context
      - docker push "${IMAGE}"
"""
"""What the runtime builder runs: unpack the build context, build, push."""

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
"""The steps' Python: the deployer's."""


def _tags(component: str, **extra: str) -> dict[str, str]:
    return {**TAGS, "mlops-component": component, **extra}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _trust(service: str, account: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        }
    )


def _allow(
    sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Sid": sid,
        "Resource": resources,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _policy(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def _role(
    name: str, component: str, role: str, service: str, *, account: pulumi.Output[str], about: str
) -> iam.Role:
    return iam.Role(
        name,
        assume_role_policy=_trust(service, account),
        description=about,
        max_session_duration=3600,
        tags=_tags(component, **{"mlops-role": role}),
    )


def program(project_dir: Path) -> None:  # noqa: PLR0915 - a program is a long list of resources
    """Declares the whole dev stack (call it under mocks or from ``__main__.py``)."""
    partition = aws.get_partition_output().apply(lambda r: r.partition)
    account = aws.get_caller_identity_output().apply(lambda r: r.account_id)
    region = aws.get_region_output().apply(lambda r: r.region)

    def arn(service: str, resource: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "arn:", partition, ":", service, ":", region, ":", account, ":", resource
        )

    # Key policy of both keys: the account through IAM; CloudWatch Logs for its log groups.
    logs_service = pulumi.Output.concat("logs.", region, ".amazonaws.com")
    log_groups = arn("logs", "log-group:*")
    key_policy = pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersThroughIam",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": pulumi.Output.concat("arn:", partition, ":iam::", account, ":root")
                    },
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": logs_service},
                    "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*",
                               "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}
                    },
                },
            ],
        }
    )  # fmt: skip

    # Stack-wide key and image registry.
    key = kms.Key(
        "mlops-key",
        description="mlops-infra dev: secrets, images",
        policy=key_policy,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=_tags("mlops"),
    )
    kms.Alias("mlops-key-alias", name="alias/mlops-dev-mlops-key", target_key_id=key.key_id)
    registry = ecr.Repository(
        "mlops-registry",
        name="dev-mlops",
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        encryption_configurations=[
            ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
        ],
        force_delete=True,
        tags=_tags("mlops"),
    )
    ecr.LifecyclePolicy(
        "mlops-registry-lifecycle",
        repository=registry.name,
        policy=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "description": "keep the newest 20 untagged images",
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "imageCountMoreThan",
                            "countNumber": 20,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            },
            sort_keys=True,
        ),
    )
    repository_arn = pulumi.Output.concat(
        "arn:", partition, ":ecr:", region, ":", account, ":repository/", registry.name
    )

    # Artifact store: private, versioned, SSE-KMS, lifecycle, TLS only.
    store_key = kms.Key(
        "mlops-store-key",
        description="mlops-infra artifact store mlops-store",
        policy=key_policy,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=_tags("mlops-store"),
    )
    kms.Alias(
        "mlops-store-key-alias",
        name="alias/mlops-dev-mlops-store-key",
        target_key_id=store_key.key_id,
    )
    bucket = s3.Bucket(
        "mlops-store",
        bucket_prefix="dev-mlops-store-",
        force_destroy=True,
        tags=_tags("mlops-store"),
    )
    s3.BucketPublicAccessBlock(
        "mlops-store-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    s3.BucketOwnershipControls(
        "mlops-store-ownership",
        bucket=bucket.id,
        rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
    )
    versioning = s3.BucketVersioning(
        "mlops-store-versioning",
        bucket=bucket.id,
        versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
    )
    s3.BucketServerSideEncryptionConfiguration(
        "mlops-store-encryption",
        bucket=bucket.id,
        rules=[
            s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=store_key.arn
                ),
                bucket_key_enabled=True,
            )
        ],
    )
    lifecycle = s3.BucketLifecycleConfigurationRuleArgs
    rule_filter = s3.BucketLifecycleConfigurationRuleFilterArgs
    s3.BucketLifecycleConfiguration(
        "mlops-store-lifecycle",
        bucket=bucket.id,
        rules=[
            lifecycle(
                id="tmp",
                status="Enabled",
                filter=rule_filter(prefix="tmp/"),
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=3),
            ),
            lifecycle(
                id="runs",
                status="Enabled",
                filter=rule_filter(prefix="pipelines/"),
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=14
                ),
            ),
            lifecycle(
                id="noncurrent-versions",
                status="Enabled",
                filter=rule_filter(prefix=""),
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=14
                ),
            ),
            lifecycle(
                id="abort-multipart",
                status="Enabled",
                filter=rule_filter(prefix=""),
                abort_incomplete_multipart_upload=s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7
                ),
            ),
        ],
        opts=pulumi.ResourceOptions(depends_on=[versioning]),
    )
    s3.BucketPolicy(
        "mlops-store-policy",
        bucket=bucket.id,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    bucket_arn = pulumi.Output.concat("arn:", partition, ":s3:::", bucket.id)
    use_key = _allow(
        "UseKey", ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [store_key.arn]
    )

    def build_project(
        component: str, name: str, what: str, reads: str, buildspec: str
    ) -> codebuild.Project:
        """A component's image builder: reads ``reads`` in the store, pushes to the registry."""
        role = _role(
            f"{component}-builder-role", component, "builder-role", "codebuild.amazonaws.com",
            account=account, about=f"CodeBuild: {what}",
        )  # fmt: skip
        policy = iam.RolePolicy(
            f"{component}-builder-role-policy",
            role=role.id,
            policy=_policy(
                [
                    _allow("BuildInputsObjects", ["s3:GetObject", "s3:GetObjectVersion"],
                           [pulumi.Output.concat(bucket_arn, f"/{reads}*")]),
                    _allow("BuildInputsList", ["s3:ListBucket"], [bucket_arn],
                           {"StringLike": {"s3:prefix": [f"{reads}*"]}}),
                    use_key,
                    _allow("PushImages",
                           ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                            "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                            "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                           [pulumi.Output.concat("arn:", partition, ":ecr:", region, ":",
                                                 account, ":repository/", pushed)]),
                    _allow("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
                    *_log_statements(arn("logs", f"log-group:/aws/codebuild/{name}")),
                ]
            ),
        )  # fmt: skip
        return codebuild.Project(
            f"{component}-builder",
            name=name,
            description=f"{what} (mlops-infra)",
            service_role=role.arn,
            source=codebuild.ProjectSourceArgs(type="NO_SOURCE", buildspec=buildspec),
            artifacts=codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type="BUILD_GENERAL1_MEDIUM",
                image="aws/codebuild/standard:7.0",
                privileged_mode=True,
            ),
            encryption_key=store_key.arn,
            build_timeout=60,
            tags=_tags(component),
            opts=pulumi.ResourceOptions(depends_on=[policy]),
        )

    # SageMaker MLflow tracking server, its role scoped to mlflow/ in the store.
    tracking_role = _role(
        "mlops-tracking-role", "mlops-tracking", "role", "sagemaker.amazonaws.com",
        account=account, about="SageMaker MLflow mlops-tracking: artifact store access",
    )  # fmt: skip
    tracking_policy = iam.RolePolicy(
        "mlops-tracking-role-policy",
        role=tracking_role.id,
        policy=_policy(
            [*_write_statements(bucket_arn, ["mlflow/"], "Artifacts"), use_key],
        ),
    )
    tracking = sagemaker.MlflowTrackingServer(
        "mlops-tracking",
        tracking_server_name="dev-mlops-tracking",
        tracking_server_size="Small",
        artifact_store_uri=pulumi.Output.concat("s3://", bucket.id, "/mlflow/"),
        role_arn=tracking_role.arn,
        automatic_model_registration=False,
        tags=_tags("mlops-tracking"),
        opts=pulumi.ResourceOptions(depends_on=[tracking_policy]),
    )

    # The pipeline's package: component files, data and manifest under its version.
    source = project_dir / "components"
    data_file = Path(
        str(importlib.resources.files("sklearn.datasets").joinpath("data/breast_cancer.csv"))
    )
    code = {relative: _sha256(source / relative) for relative in CODE_FILES}
    data = {
        "breast_cancer": {
            "uri": "pkg://sklearn.datasets/data/breast_cancer.csv",
            "hash": "sha256:" + _sha256(data_file),
        }
    }
    definition = {
        "model_name": "diagnosis",
        "steps": {
            name: {
                "component": step["component"],
                "depends_on": sorted(step["depends_on"]),
                "environment_variables": {},
                "image": None,
                "nodes": 1,
                "parameters": step["parameters"],
            }
            for name, step in STEPS.items()
        },
    }
    manifest: dict[str, Any] = {
        "format": 1,
        "kind": "pipeline",
        "name": "diagnosis",
        "definition": definition,
        "code": code,
        "data": data,
    }
    digest = _canonical(manifest)
    version = digest[:16]
    hashes = {
        "code_hash": _canonical(code),
        "config_hash": _canonical(definition),
        "data_hash": _canonical({"breast_cancer": data["breast_cancer"]["hash"]}),
    }
    manifest.update(version=version, digest=digest, **hashes)
    root = f"pipelines/diagnosis/{version}/"
    package_tags = _tags("mlops-pipeline-diagnosis", **{"mlops-version": version})
    keep = pulumi.ResourceOptions(retain_on_delete=True)
    objects: list[pulumi.Resource] = [
        s3.BucketObjectv2(
            f"mlops-pipeline-diagnosis-code-{relative.replace('/', '-')}",
            bucket=bucket.id,
            key=f"{root}code/{relative}",
            source=pulumi.FileAsset(str(source / relative)),
            tags=package_tags,
            opts=keep,
        )
        for relative in CODE_FILES
    ]
    objects.append(
        s3.BucketObjectv2(
            "mlops-pipeline-diagnosis-manifest",
            bucket=bucket.id,
            key=f"{root}manifest.json",
            content=json.dumps(manifest, indent=2, sort_keys=True),
            content_type="application/json",
            tags=package_tags,
            opts=keep,
        )
    )
    objects.append(
        s3.BucketObjectv2(
            "mlops-pipeline-diagnosis-data-breast_cancer-breast_cancer.csv",
            bucket=bucket.id,
            key=f"{root}data/breast_cancer/breast_cancer.csv",
            source=pulumi.FileAsset(str(data_file)),
            tags=package_tags,
            opts=keep,
        )
    )

    # The steps' runtime image: its build context uploaded once, built by CodeBuild.
    pushed = registry.repository_url.apply(lambda u: u.partition("/")[2])
    runtime = runtime_source(
        read_requirements(source / "diagnosis" / "requirements.txt"),
        ["sagemaker-mlflow>=0.5"],
        base_image=f"public.ecr.aws/docker/library/python:{PYTHON}-slim",
    )
    context_key = f"images/{runtime.tag}/context.tar.gz"
    context = s3.BucketObjectv2(
        "mlops-pipeline-diagnosis-runtime-context",
        bucket=bucket.id,
        key=context_key,
        source=pulumi.FileAsset(str(runtime.archive(project_dir / ".mlops" / "images"))),
        content_type="application/gzip",
        tags=_tags("mlops-pipeline-diagnosis", **{"mlops-image": runtime.tag}),
        opts=keep,
    )
    runtime_builder = build_project(
        "mlops-pipeline-diagnosis", "dev-mlops-pipeline-diagnosis-images",
        "the runtime image for mlops-pipeline-diagnosis", "images/", CONTEXT_BUILDSPEC,
    )  # fmt: skip
    runtime_build = ImageBuild(
        "mlops-pipeline-diagnosis-runtime-image",
        {
            "project_name": runtime_builder.name,
            "region": region,
            "repository": pushed,
            "repository_url": registry.repository_url,
            "tag": runtime.tag,
            "environment": {
                "CONTEXT_URI": pulumi.Output.concat("s3://", bucket.id, "/", context_key)
            },
            "bucket": bucket.id,
            "timeout_s": 3600,
        },
        pulumi.ResourceOptions(
            depends_on=[context],
            custom_timeouts=pulumi.CustomTimeouts(create="70m", update="70m"),
        ),
    )

    # The pipeline's role: its package, its outputs, the image, logs, MLflow, its own jobs.
    image = pulumi.Output.concat(registry.repository_url, ":", runtime.tag)
    pipeline_role = _role(
        "mlops-pipeline-diagnosis-role", "mlops-pipeline-diagnosis", "role",
        "sagemaker.amazonaws.com", account=account,
        about="SageMaker pipeline diagnosis and its steps",
    )  # fmt: skip
    pipeline_policy = iam.RolePolicy(
        "mlops-pipeline-diagnosis-role-policy",
        role=pipeline_role.id,
        policy=_policy(
            [
                _allow("PackageObjects", ["s3:GetObject", "s3:GetObjectVersion"],
                       [pulumi.Output.concat(bucket_arn, "/", root, "*")]),
                _allow("PackageList", ["s3:ListBucket"], [bucket_arn],
                       {"StringLike": {"s3:prefix": [f"{root}*"]}}),
                *_write_statements(bucket_arn, [f"{root}runs/", "mlflow/"], "Outputs"),
                use_key,
                _allow("GrantVolumeKey", ["kms:CreateGrant"], [store_key.arn],
                       {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
                *_pull_statements(repository_arn),
                *_log_statements(arn("logs", "log-group:/aws/sagemaker/TrainingJobs")),
                _allow("TrainingMetrics", ["cloudwatch:PutMetricData"], ["*"],
                       {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
                _allow("TrackingServer", MLFLOW_ACTIONS, [tracking.arn]),
                # Only the jobs the definition requests.
                _allow("RunStepJobs", ["sagemaker:CreateTrainingJob"],
                       [arn("sagemaker", "training-job/pipelines-*")], {
                           "ForAllValues:StringEquals": {
                               "sagemaker:InstanceTypes": ["ml.m5.xlarge"]},
                           "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": 3600},
                           "Null": {"sagemaker:InstanceTypes": "false"},
                           "ArnEquals": {"sagemaker:OutputKmsKey": store_key.arn,
                                         "sagemaker:VolumeKmsKey": store_key.arn},
                       }),
                _allow("TrackStepJobs",
                       ["sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                        "sagemaker:AddTags"],
                       [arn("sagemaker", "training-job/pipelines-*")]),
                _allow("PassOwnRole", ["iam:PassRole"], [pipeline_role.arn],
                       {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
            ]
        ),
    )  # fmt: skip

    # The DAG as a SageMaker pipeline definition.
    uri = pulumi.Output.concat("s3://", bucket.id, "/", root)
    runs = pulumi.Output.concat(uri, "runs/")
    lineage = {
        "mlops.pipeline": "diagnosis",
        "mlops.pipeline_version": version,
        "mlops.code_hash": hashes["code_hash"],
        "mlops.config_hash": hashes["config_hash"],
        "mlops.data_hash": hashes["data_hash"],
        "mlops.stack": STACK,
        "mlops.environment": ENVIRONMENT,
    }
    steps: list[dict[str, Any]] = []
    for name, step in STEPS.items():
        channels = [
            _channel("code", pulumi.Output.concat(uri, "code/")),
            _channel("data-breast_cancer", pulumi.Output.concat(uri, "data/breast_cancer/")),
            *(
                _channel(f"step-{up}", {"Get": f"Steps.{up}.ModelArtifacts.S3ModelArtifacts"})
                for up in step["inputs"]
            ),
        ]
        resources: dict[str, Any] = {
            "InstanceType": step["instance"],
            "InstanceCount": 1,
            "VolumeSizeInGB": 50,
        }
        resources["VolumeKmsKeyId"] = store_key.arn  # EBS volumes: ml.m5 has no local NVMe
        stopping = {"MaxRuntimeInSeconds": 3600}
        if step["spot"]:
            stopping["MaxWaitTimeInSeconds"] = 7200
        arguments: dict[str, Any] = {
            "AlgorithmSpecification": {
                "TrainingImage": image,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["python", "-m", "mlops_infra.backends.aws.container_entry"],
            },
            "RoleArn": pipeline_role.arn,
            "ResourceConfig": resources,
            "InputDataConfig": channels,
            "OutputDataConfig": {
                "S3OutputPath": _join(runs, EXECUTION_ID, f"/{name}/output"),
                "KmsKeyId": store_key.arn,
            },
            "StoppingCondition": stopping,
            "HyperParameters": {
                "mlops_pipeline": "diagnosis",
                "mlops_version": version,
                "mlops_model_name": "diagnosis",
                "mlops_params": json.dumps(step["parameters"], sort_keys=True),
                "mlops_data": json.dumps(
                    {"breast_cancer": "channel:data-breast_cancer/breast_cancer.csv"}
                ),
                "mlops_tags": json.dumps(lineage, sort_keys=True),
                "mlops_component": step["component"],
                "mlops_step": name,
                "mlops_execution": EXECUTION_ID,
                "mlops_inputs": json.dumps(step["inputs"]),
                **({"mlops_final": "true"} if name == "register" else {}),
            },
            "Environment": {"MLFLOW_TRACKING_URI": tracking.arn},
            "EnableManagedSpotTraining": step["spot"],
            "EnableInterContainerTrafficEncryption": False,
            "EnableNetworkIsolation": False,
        }
        if step["spot"]:
            arguments["CheckpointConfig"] = {
                "S3Uri": _join(runs, EXECUTION_ID, f"/{name}/checkpoints")
            }
        entry: dict[str, Any] = {"Name": name, "Type": "Training", "Arguments": arguments}
        if step["depends_on"]:
            entry["DependsOn"] = step["depends_on"]
        steps.append(entry)
    pipeline = sagemaker.Pipeline(
        "mlops-pipeline-diagnosis",
        pipeline_name="dev-diagnosis",
        pipeline_display_name="dev-diagnosis",
        pipeline_description=f"diagnosis version {version} (mlops-infra)",
        role_arn=pipeline_role.arn,
        pipeline_definition=pulumi.Output.json_dumps(
            {
                "Version": "2020-12-01",
                "Metadata": {},
                "Parameters": [],
                "PipelineExperimentConfig": None,
                "Steps": steps,
            },
            sort_keys=True,
        ),
        parallelism_configuration=sagemaker.PipelineParallelismConfigurationArgs(
            max_parallel_execution_steps=4
        ),
        tags=package_tags,
        opts=pulumi.ResourceOptions(depends_on=[pipeline_policy, *objects, runtime_build]),
    )

    # Weekday schedule (disabled in dev), with a role that may only start this pipeline.
    invoker = _role(
        "mlops-pipeline-diagnosis-scheduler", "mlops-pipeline-diagnosis", "scheduler",
        "scheduler.amazonaws.com", account=account,
        about="EventBridge Scheduler: start pipeline diagnosis",
    )  # fmt: skip
    invoker_policy = iam.RolePolicy(
        "mlops-pipeline-diagnosis-scheduler-policy",
        role=invoker.id,
        policy=_policy(
            [
                _allow("StartPipeline", ["sagemaker:StartPipelineExecution"], [pipeline.arn]),
                # The schedule is encrypted with the stack's key.
                _allow("DecryptSchedule", ["kms:Decrypt"], [key.arn]),
            ]
        ),
    )
    scheduler.Schedule(
        "mlops-pipeline-diagnosis-schedule",
        description="run pipeline diagnosis (0 6 * * 1-5 Europe/Paris)",
        schedule_expression="cron(0 6 ? * 2-6 *)",
        schedule_expression_timezone="Europe/Paris",
        state="DISABLED",
        flexible_time_window=scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        kms_key_arn=key.arn,
        target=scheduler.ScheduleTargetArgs(
            arn=pipeline.arn,
            role_arn=invoker.arn,
            retry_policy=scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
            ),
        ),
        opts=pulumi.ResourceOptions(depends_on=[invoker_policy]),
    )
    # One execution per pipeline version (dev waits for it, to hand its model version on).
    run = SageMakerPipelineRun(
        "mlops-pipeline-diagnosis-run",
        {
            "pipeline_name": pipeline.pipeline_name,
            "region": region,
            "version": version,
            "wait": True,
            "timeout_s": 7200,
            "model_name": "diagnosis",
            "tracking_url": tracking.arn,
            "username": None,
            "password": None,
            "client_auth": CLIENT_AUTH,
        },
        pulumi.ResourceOptions(
            depends_on=[pipeline], custom_timeouts=pulumi.CustomTimeouts(create="24h")
        ),
    )

    # The endpoint: gate → image build → deployment (at up) → alias; rollback alarm.
    gate = PromotionDecision(
        "mlops-endpoint-diagnosis-gate",
        DecisionInputs(
            model="diagnosis",
            alias="champion",
            environment=ENVIRONMENT,
            tracking_url=tracking.arn,
            client_auth=CLIENT_AUTH,
            gate={
                "conditions": [{"metric": "accuracy", "op": ">=", "threshold": 0.9}],
                "beat_champion": None,
                "passed_in": [],
            },
        ),
    )
    endpoint_tags = _tags("mlops-endpoint-diagnosis")
    alarm = cloudwatch.MetricAlarm(
        "mlops-endpoint-diagnosis-errors",
        name="dev-diagnosis-5xx",
        alarm_description="5xx errors on endpoint dev-diagnosis: roll a deployment back",
        namespace="AWS/SageMaker",
        metric_name="Invocation5XXErrors",
        dimensions={"EndpointName": "dev-diagnosis", "VariantName": "primary"},
        statistic="Sum",
        period=60,
        evaluation_periods=2,
        threshold=1.0,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        tags=endpoint_tags,
    )
    serving_role = _role(
        "mlops-endpoint-diagnosis-role", "mlops-endpoint-diagnosis", "role",
        "sagemaker.amazonaws.com", account=account,
        about="SageMaker endpoint diagnosis: load and serve the model",
    )  # fmt: skip
    serving_policy = iam.RolePolicy(
        "mlops-endpoint-diagnosis-role-policy",
        role=serving_role.id,
        policy=_policy(
            [
                _allow("ModelArtifactsObjects", ["s3:GetObject", "s3:GetObjectVersion"],
                       [pulumi.Output.concat(bucket_arn, "/mlflow/*")]),
                _allow("ModelArtifactsList", ["s3:ListBucket"], [bucket_arn],
                       {"StringLike": {"s3:prefix": ["mlflow/*"]}}),
                use_key,
                *_pull_statements(repository_arn),
                *_log_statements(arn("logs", "log-group:/aws/sagemaker/Endpoints/dev-diagnosis")),
                _allow("EndpointMetrics", ["cloudwatch:PutMetricData"], ["*"],
                       {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
            ]
        ),
    )  # fmt: skip
    model_data = pulumi.Output.all(gate.served_source, bucket.id).apply(
        lambda v: _model_data(v[0], f"s3://{v[1]}/mlflow/")
    )

    # The served version's image: a CodeBuild project and one build per content hash.
    builder = build_project(
        "mlops-endpoint-diagnosis", "dev-diagnosis-images",
        "serving images of endpoint diagnosis", "mlflow/", SERVING_BUILDSPEC,
    )  # fmt: skip
    mlflow_version = importlib.metadata.version("mlflow")
    build = ImageBuild(
        "mlops-endpoint-diagnosis-image",
        {
            "project_name": builder.name,
            "region": region,
            "repository": pushed,
            "repository_url": registry.repository_url,
            "tag": model_data.apply(lambda s: _serving_tag(s, mlflow_version)),
            "environment": {"MODEL_URI": model_data, "MLFLOW_VERSION": mlflow_version},
            "bucket": bucket.id,
            "timeout_s": 3600,
        },
        pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="70m", update="70m")),
    )

    # The deployment: Model, EndpointConfig, blue/green Endpoint and autoscaling, at up.
    deployment = SageMakerDeployment(
        "mlops-endpoint-diagnosis-deployment",
        {
            "endpoint_name": "dev-diagnosis",
            "region": region,
            "version": gate.served_version,
            "source": model_data,
            "image": build.image,
            "role_arn": serving_role.arn,
            "environment": {
                "MLFLOW_DEPLOYMENT_FLAVOR_NAME": "python_function",
                "SERVING_ENVIRONMENT": "SageMaker",
                "MLOPS_MODEL": "diagnosis",
                "MLOPS_MODEL_VERSION": gate.served_version.apply(lambda v: v or ""),
            },
            "network_isolation": True,
            "vpc": None,
            "instance_type": "ml.m5.large",
            "initial_count": 1,
            "kms_key": key.arn,  # ml.m5.large has no local NVMe storage
            "deployment_config": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "ALL_AT_ONCE",
                        "WaitIntervalInSeconds": 600,
                    },
                    "TerminationWaitInSeconds": 300,
                    "MaximumExecutionTimeoutInSeconds": 3600,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm.name}]},
            },
            "scaling": {
                "min": 1,
                "max": 1,
                "target_value": 50.0,
                "metric": "SageMakerVariantConcurrentRequestsPerModelHighResolution",
            },
            "tags": _tags("mlops-endpoint-diagnosis", **{"mlops-model": "diagnosis"}),
            "timeout_s": 5400,
        },
        pulumi.ResourceOptions(
            depends_on=[serving_policy, alarm, build],
            custom_timeouts=pulumi.CustomTimeouts(create="90m", update="90m"),
        ),
    )
    deployed = deployment.deployed_version
    ModelAlias(
        "mlops-endpoint-diagnosis-alias",
        AliasInputs(
            model="diagnosis",
            alias="champion",
            version=deployed,
            tracking_url=tracking.arn,
            client_auth=CLIENT_AUTH,
        ),
        pulumi.ResourceOptions(depends_on=[gate, deployment]),
    )

    pulumi.export("artifact_uri", pulumi.Output.concat("s3://", bucket.id))
    pulumi.export("tracking_url", tracking.arn)
    pulumi.export(
        "pipelines",
        {
            "diagnosis": {
                "version": version,
                "deployed_version": version,
                "model_name": "diagnosis",
                "model_version": run.model_version,
                "run_id": None,
            }
        },
    )
    pulumi.export("jobs", {})
    pulumi.export(
        "endpoints",
        {
            "diagnosis": {
                "url": pulumi.Output.all(deployed, region).apply(
                    lambda v: (
                        f"https://runtime.sagemaker.{v[1]}.amazonaws.com/endpoints/"
                        "dev-diagnosis/invocations"
                        if v[0]
                        else None
                    )
                ),
                "model": "diagnosis",
                "model_version": deployed,
                "status": deployed.apply(lambda v: "serving" if v else "pending"),
                "decision": gate.decision,
            }
        },
    )  # fmt: skip


def _write_statements(
    bucket_arn: pulumi.Output[str], prefixes: list[str], sid: str
) -> list[dict[str, Any]]:
    return [
        _allow(
            f"{sid}Objects",
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
             "s3:AbortMultipartUpload"],
            [pulumi.Output.concat(bucket_arn, "/", prefix, "*") for prefix in prefixes],
        ),
        _allow(f"{sid}List", ["s3:ListBucket"], [bucket_arn],
               {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}),
        _allow(f"{sid}Location", ["s3:GetBucketLocation"], [bucket_arn]),
    ]  # fmt: skip


def _pull_statements(repository_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
    return [
        _allow(
            "PullImages",
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            [repository_arn],
        ),
        _allow("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
    ]


def _log_statements(group: pulumi.Output[str]) -> list[dict[str, Any]]:
    return [
        _allow(
            "WriteLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
             "logs:DescribeLogStreams"],
            [pulumi.Output.concat(group, ":*"), group],
        )
    ]  # fmt: skip


def _channel(name: str, uri: Any) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "InputMode": "File",
    }


def _join(*values: Any) -> dict[str, Any]:
    return {"Std:Join": {"On": "", "Values": list(values)}}


def _model_data(source: str | None, mlflow_uri: str) -> str | None:
    if not source:
        return None  # nothing has passed the gate yet: nothing to build or deploy
    if source.startswith("mlflow-artifacts:"):
        source = mlflow_uri + source.removeprefix("mlflow-artifacts:").lstrip("/")
    return source.rstrip("/") + "/"


def _serving_tag(source: str | None, mlflow_version: str) -> str | None:
    if not source:
        return None
    content = f"{source}|{mlflow_version}|{SERVING_BUILDSPEC}"
    return f"serving-{hashlib.sha256(content.encode()).hexdigest()[:16]}"
