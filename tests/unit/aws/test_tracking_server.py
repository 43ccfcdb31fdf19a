"""Tracking server: SageMaker managed MLflow (server or app) and the self-hosted flavor."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws.tracking_self_hosted import LAUNCHER
from mlops_infra.errors import BackendError
from mlops_infra.offline import is_secret

from .helpers import children, run_aws

TRACKING = "mlops:index:TrackingServer"
NETWORK: dict[str, Any] = {"create": True}
SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
APP = "aws:sagemaker/mlflowApp:MlflowApp"


@pytest.mark.parametrize(
    ("spec", "environment", "resource", "size"),
    [
        ({"size": "small"}, "dev", SERVER, "Small"),
        ({"size": "large"}, "staging", SERVER, "Large"),
        ({}, "prod", APP, None),
        ({"high_availability": True}, "dev", APP, None),
        ({"options": {"deployment": "tracking-server"}}, "prod", SERVER, "Small"),
        ({"options": {"deployment": "app"}}, "dev", APP, None),
    ],
)  # fmt: skip
def test_managed_mlflow_follows_size_and_availability(
    spec: dict[str, Any], environment: str, resource: str, size: str | None
) -> None:
    run = run_aws({"environment": environment, "tracking": spec})
    assert children(run, TRACKING, "mlops-tracking") == {
        (resource, "mlops-tracking"),
        ("aws:iam/role:Role", "mlops-tracking-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-tracking-role-policy"),
    }
    server = run.one(resource, "mlops-tracking")
    values = server.plain_inputs()
    assert values["artifactStoreUri"] == f"s3://{environment}-mlops-store-abc123/mlflow/"
    assert values["roleArn"].startswith("arn:aws:iam::123456789012:role/mlops-tracking-role")
    if size:
        assert values["trackingServerSize"] == size
        assert values["trackingServerName"] == f"{environment}-mlops-tracking"
    else:
        assert values["name"] == f"{environment}-mlops-tracking"
        assert values["accountDefaultStatus"] == "DISABLED"
    protected = environment == "prod"
    assert (server.protect, server.retain_on_delete) == (protected, protected)
    assert any(d.endswith("mlops-tracking-role-policy") for d in server.depends_on)


def test_managed_role_is_scoped_to_the_mlflow_prefix() -> None:
    run = run_aws({})
    policy = run.inputs(
        "aws:iam/rolePolicy:RolePolicy", "mlops-tracking-role-policy", parse_json=True
    )["policy"]
    objects = next(s for s in policy["Statement"] if s["Sid"] == "ArtifactsObjects")
    assert objects["Resource"] == ["arn:aws:s3:::dev-mlops-store-abc123/mlflow/*"]
    listing = next(s for s in policy["Statement"] if s["Sid"] == "ArtifactsList")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["mlflow/*"]}}
    trust = run.inputs("aws:iam/role:Role", "mlops-tracking-role", parse_json=True)[
        "assumeRolePolicy"
    ]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_managed_tracking_uri_is_the_arn_and_needs_no_password() -> None:
    run = run_aws({})
    assert run.outputs["tracking_url"] == (
        "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/dev-mlops-tracking"
    )


TLS: dict[str, Any] = {
    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x",
    "domain": "mlflow.internal.example.com",
}
"""The self-hosted server's TLS options (required outside development)."""


def _self_hosted(environment: str = "prod", **options: Any) -> Any:
    if environment != "dev" and "certificate_arn" not in options:
        options = {**TLS, **options}
    return run_aws(
        {
            "environment": environment,
            "network": NETWORK,
            "tracking": {"flavor": "self-hosted", "options": options},
        }
    )


def test_self_hosted_children() -> None:
    run = _self_hosted()
    kinds = sorted(children(run, TRACKING, "mlops-tracking"))
    assert kinds == sorted(
        [
            ("aws:cloudwatch/logGroup:LogGroup", "mlops-tracking-logs"),
            # The server's image, built by the stack.
            ("aws:codebuild/project:Project", "mlops-tracking-builder"),
            ("aws:iam/role:Role", "mlops-tracking-builder-role"),
            ("aws:iam/rolePolicy:RolePolicy", "mlops-tracking-builder-role-policy"),
            ("aws:s3/bucketObjectv2:BucketObjectv2", "mlops-tracking-mlflow-server-context"),
            ("pulumi-python:dynamic/mlops:ImageBuild", "mlops-tracking-mlflow-server-image"),
            ("aws:ec2/securityGroup:SecurityGroup", "mlops-tracking-db"),
            ("aws:ec2/securityGroup:SecurityGroup", "mlops-tracking-lb"),
            ("aws:ec2/securityGroup:SecurityGroup", "mlops-tracking-service"),
            ("aws:ecs/cluster:Cluster", "mlops-tracking-cluster"),
            ("aws:ecs/service:Service", "mlops-tracking"),
            ("aws:ecs/taskDefinition:TaskDefinition", "mlops-tracking-task"),
            ("aws:iam/role:Role", "mlops-tracking-execution"),
            ("aws:iam/role:Role", "mlops-tracking-task-role"),
            ("aws:iam/rolePolicy:RolePolicy", "mlops-tracking-execution-policy"),
            ("aws:iam/rolePolicy:RolePolicy", "mlops-tracking-task-role-policy"),
            ("aws:lb/listener:Listener", "mlops-tracking-listener"),
            ("aws:lb/loadBalancer:LoadBalancer", "mlops-tracking-alb"),
            ("aws:lb/targetGroup:TargetGroup", "mlops-tracking-targets"),
            ("aws:rds/instance:Instance", "mlops-tracking-db"),
            ("aws:rds/subnetGroup:SubnetGroup", "mlops-tracking-db-subnets"),
            ("aws:secretsmanager/secret:Secret", "mlops-tracking-credentials"),
            ("aws:secretsmanager/secretVersion:SecretVersion", "mlops-tracking-credentials-value"),
            (
                "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                "mlops-tracking-lb-to-service",
            ),
            (
                "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                "mlops-tracking-service-to-aws",
            ),
            (
                "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                "mlops-tracking-service-to-db",
            ),
            (
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                "mlops-tracking-db-from-service",
            ),
            (
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                "mlops-tracking-lb-from-workloads",
            ),
            (
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                "mlops-tracking-service-from-lb",
            ),
            ("pulumi-python:dynamic/mlops:AwsGeneratedSecret", "mlops-tracking-admin-password"),
            ("pulumi-python:dynamic/mlops:AwsGeneratedSecret", "mlops-tracking-flask-key"),
        ]
    )
    # MLOPS-AWS-LOGS-001: the server's logs are encrypted with the stack's key.
    logs = run.inputs("aws:cloudwatch/logGroup:LogGroup", "mlops-tracking-logs")
    assert logs["kmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/mlops-key"


@pytest.mark.parametrize(("environment", "protected"), [("prod", True), ("dev", False)])
def test_self_hosted_database_is_encrypted_private_and_protected_in_prod(
    environment: str, protected: bool
) -> None:
    run = _self_hosted(environment)
    db = run.one("aws:rds/instance:Instance", "mlops-tracking-db")
    values = db.plain_inputs()
    assert values["engine"] == "postgres"
    assert values["storageEncrypted"] is True
    assert values["kmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/mlops-key"
    assert values["publiclyAccessible"] is False
    assert values["manageMasterUserPassword"] is True  # password managed by RDS in Secrets Manager
    assert "password" not in values
    assert values["vpcSecurityGroupIds"] == ["mlops-tracking-db-id"]
    assert values["multiAz"] is protected
    assert values["deletionProtection"] is protected
    assert values["skipFinalSnapshot"] is not protected
    assert values.get("finalSnapshotIdentifier") == (
        f"{environment}-mlops-tracking-db-final" if protected else None
    )
    assert (db.protect, db.retain_on_delete) == (protected, protected)


def test_self_hosted_credentials_are_write_only_and_basic_auth_is_on() -> None:
    run = _self_hosted()
    version = run.one(
        "aws:secretsmanager/secretVersion:SecretVersion", "mlops-tracking-credentials-value"
    )
    assert "secretString" not in version.inputs
    assert is_secret(version.inputs["secretStringWo"])
    assert isinstance(version.plain_inputs()["secretStringWoVersion"], float | int)
    task = run.inputs(
        "aws:ecs/taskDefinition:TaskDefinition", "mlops-tracking-task", parse_json=True
    )
    (container,) = task["containerDefinitions"]
    assert container["command"] == [LAUNCHER]
    assert '"--app-name", "basic-auth"' in LAUNCHER
    assert "default_permission = NO_PERMISSIONS" in LAUNCHER
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert env["MLFLOW_SERVER_ALLOWED_HOSTS"] == (
        "mlflow.internal.example.com,mlflow.internal.example.com:*"
    )
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["DB_PASSWORD"].endswith(":password::")
    assert secrets["MLFLOW_AUTH_ADMIN_PASSWORD"].endswith(":admin_password::")
    assert secrets["MLFLOW_FLASK_SERVER_SECRET_KEY"].endswith(":flask_secret_key::")
    assert "password" not in str(container["environment"]).lower().replace("db_", "")


def test_self_hosted_load_balancer_is_internal_and_tls_on_the_domain() -> None:
    run = _self_hosted(hosted_zone_id="Z0123456789ABCDEFGHIJ")
    alb = run.inputs("aws:lb/loadBalancer:LoadBalancer", "mlops-tracking-alb")
    assert alb["internal"] is True
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["enableDeletionProtection"] is True
    listener = run.inputs("aws:lb/listener:Listener", "mlops-tracking-listener")
    assert (listener["protocol"], listener["port"]) == ("HTTPS", 443)
    assert listener["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    service = run.inputs("aws:ecs/service:Service", "mlops-tracking")
    assert service["networkConfiguration"]["assignPublicIp"] is False
    assert service["desiredCount"] == 2
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # ACM issues no certificate for an ELB DNS name: the URL is the certificate's domain.
    assert run.outputs["tracking_url"] == "https://mlflow.internal.example.com"
    record = run.inputs("aws:route53/record:Record", "mlops-tracking-dns")
    assert (record["zoneId"], record["name"], record["type"]) == (
        "Z0123456789ABCDEFGHIJ",
        "mlflow.internal.example.com",
        "A",
    )
    assert record["aliases"][0]["name"] == "internal-mlops-tracking-alb.eu-west-1.elb.amazonaws.com"
    # The workloads reach 443 through their own egress rule; nothing else is opened.
    names = {n for _, n in children(run, TRACKING, "mlops-tracking")}
    assert "mlops-tracking-workloads-to-lb" not in names
    ingress = run.inputs(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "mlops-tracking-lb-from-workloads",
    )
    assert ingress["referencedSecurityGroupId"] == "mlops-workloads-id"
    assert "cidrIpv4" not in ingress


def test_self_hosted_in_development_may_be_plain_http_and_opens_port_80_to_it() -> None:
    run = _self_hosted("dev")
    listener = run.inputs("aws:lb/listener:Listener", "mlops-tracking-listener")
    assert (listener["protocol"], listener["port"]) == ("HTTP", 80)
    assert run.outputs["tracking_url"] == (
        "http://internal-mlops-tracking-alb.eu-west-1.elb.amazonaws.com"
    )
    egress = run.inputs(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "mlops-tracking-workloads-to-lb"
    )
    assert (egress["securityGroupId"], egress["referencedSecurityGroupId"]) == (
        "mlops-workloads-id",
        "mlops-tracking-lb-id",
    )
    assert (egress["fromPort"], egress["toPort"]) == (80, 80)


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_self_hosted_refuses_plain_http_outside_development(environment: str) -> None:
    with pytest.raises(
        BackendError,
        match=(
            r"mlops-tracking: tracking\.options\.certificate_arn and tracking\.options\.domain "
            r"are required in the (staging|production) tier .*allowed without them: development"
        ),
    ):
        _self_hosted(environment, certificate_arn=None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"certificate_arn": TLS["certificate_arn"]}, "certificate_arn and domain go together"),
        ({"domain": "mlflow.example.com"}, "certificate_arn and domain go together"),
        ({**TLS, "domain": "internal-x.elb.amazonaws.com."}, "domain"),
        ({"hosted_zone_id": "Z0123456789"}, "hosted_zone_id 'Z0123456789' needs the domain"),
    ],
)
def test_self_hosted_tls_options_are_checked(options: dict[str, Any], message: str) -> None:
    from mlops_infra.backends.aws.options import SelfHostedTrackingOptions

    with pytest.raises(ValueError, match=message):
        SelfHostedTrackingOptions.model_validate(options)


def test_self_hosted_needs_a_network() -> None:
    with pytest.raises(BackendError, match=r"set network\.create: true or network\.existing"):
        run_aws({"tracking": {"flavor": "self-hosted"}})


def test_given_admin_password_is_used_instead_of_a_generated_one() -> None:
    run = run_aws(
        {
            "network": NETWORK,
            "tracking": {"flavor": "self-hosted", "admin_password_config_key": "mlflowAdmin"},
        },
        secrets={"mlflowAdmin": "s3cret-from-config"},
    )
    names = {n for _, n in children(run, TRACKING, "mlops-tracking")}
    assert "mlops-tracking-admin-password" not in names
    assert "mlops-tracking-flask-key" in names


def test_self_hosted_server_runs_the_mlflow_image_the_stack_builds() -> None:
    run = _self_hosted()
    build = run.one("pulumi-python:dynamic/mlops:ImageBuild", "mlops-tracking-mlflow-server-image")
    tag = build.plain_inputs()["tag"]
    assert tag.startswith("mlflow-server-")
    task = run.one("aws:ecs/taskDefinition:TaskDefinition", "mlops-tracking-task")
    (container,) = task.plain_inputs(parse_json=True)["containerDefinitions"]
    assert container["image"].endswith(f"/prod-mlops:{tag}")
    assert build.urn in task.depends_on


def test_self_hosted_server_with_its_own_image_builds_nothing() -> None:
    run = _self_hosted(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/own:mlflow")
    assert not [r for r in run.registrations if r.type == "pulumi-python:dynamic/mlops:ImageBuild"]


@pytest.mark.parametrize(
    ("cpu", "memory_mib", "allowed"),
    [
        (256, 512, True),
        (256, 2048, True),
        (256, 3072, False),
        (512, 512, False),
        (1024, 2048, True),
        (1024, 2560, False),  # not a multiple of 1024
        (4096, 30720, True),
        (4096, 31744, False),
        (8192, 20480, True),
        (8192, 18432, False),  # 4096-MiB steps from 16384
        (16384, 122880, True),
        (16384, 36864, False),  # 8192-MiB steps from 32768
    ],
)
def test_only_fargate_task_sizes_are_accepted(cpu: int, memory_mib: int, allowed: bool) -> None:
    from pydantic import ValidationError

    from mlops_infra.backends.aws.options import SelfHostedTrackingOptions

    if allowed:
        SelfHostedTrackingOptions.model_validate({"cpu": cpu, "memory_mib": memory_mib})
        return
    with pytest.raises(
        ValidationError,
        match=rf"memory_mib {memory_mib} is not a Fargate task size with cpu {cpu}; allowed with cpu {cpu}: ",
    ):
        SelfHostedTrackingOptions.model_validate({"cpu": cpu, "memory_mib": memory_mib})


def test_the_fargate_error_names_the_allowed_sizes() -> None:
    from pydantic import ValidationError

    from mlops_infra.backends.aws.options import SelfHostedTrackingOptions

    with pytest.raises(ValidationError, match=r"allowed with cpu 256: 512, 1024, 2048"):
        SelfHostedTrackingOptions.model_validate({"cpu": 256, "memory_mib": 4096})
    with pytest.raises(
        ValidationError, match=r"allowed with cpu 512: 1024 to 4096 in steps of 1024"
    ):
        SelfHostedTrackingOptions.model_validate({"cpu": 512, "memory_mib": 8192})


@pytest.mark.parametrize(("storage", "ok"), [(10, False), (19, False), (20, True)])
def test_rds_storage_is_at_least_what_gp3_allows(storage: int, ok: bool) -> None:
    spec = {
        "network": NETWORK,
        "tracking": {"flavor": "self-hosted", "database_storage_gib": storage},
    }
    if ok:
        run = run_aws(spec)
        db = run.inputs("aws:rds/instance:Instance", "mlops-tracking-db")
        assert db["allocatedStorage"] == storage
        return
    with pytest.raises(
        BackendError,
        match=rf"database_storage_gib {storage} is below what RDS gp3 storage allows; allowed: 20 to 16384",
    ):
        run_aws(spec)
