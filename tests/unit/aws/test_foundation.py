"""Foundation: stack key, ECR repository, and the network (created, adopted, or none)."""

from __future__ import annotations

import json

import pytest

from mlops_infra.backends.aws._endpoints import STANDARD

from .helpers import children, custom, run_aws

FOUNDATION = "mlops:index:Foundation"


def test_default_foundation_is_key_and_registry_without_network() -> None:
    run = run_aws({"environment": "dev"})
    assert children(run, FOUNDATION, "mlops") == {
        ("aws:kms/key:Key", "mlops-key"),
        ("aws:kms/alias:Alias", "mlops-key-alias"),
        ("aws:ecr/repository:Repository", "mlops-registry"),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "mlops-registry-lifecycle"),
    }
    assert not [r for r in custom(run) if r.type.startswith("aws:ec2/")]


def test_registry_is_immutable_scanned_encrypted_and_pruned() -> None:
    run = run_aws({"environment": "prod", "registry": {"keep_images": 12}})
    repository = run.one("aws:ecr/repository:Repository", "mlops-registry")
    values = repository.plain_inputs()
    assert values["name"] == "prod-mlops"
    assert values["imageTagMutability"] == "IMMUTABLE"
    assert values["imageScanningConfiguration"] == {"scanOnPush": True}
    assert values["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:eu-west-1:123456789012:key/mlops-key"}
    ]
    assert values["forceDelete"] is False
    assert repository.protect
    assert repository.retain_on_delete
    lifecycle = run.inputs(
        "aws:ecr/lifecyclePolicy:LifecyclePolicy", "mlops-registry-lifecycle", parse_json=True
    )
    policy = (
        lifecycle["policy"]
        if isinstance(lifecycle["policy"], dict)
        else json.loads(lifecycle["policy"])
    )
    (rule,) = policy["rules"]
    assert rule["selection"] == {
        "tagStatus": "untagged",
        "countType": "imageCountMoreThan",
        "countNumber": 12,
    }
    key = run.one("aws:kms/key:Key", "mlops-key")
    assert key.plain_inputs(parse_json=True)["enableKeyRotation"] is True
    assert key.protect
    assert key.retain_on_delete


def test_stack_key_has_an_explicit_policy_letting_only_this_accounts_log_groups_use_it() -> None:
    """Default key policy plus CloudWatch Logs bounded by the log-group encryption context.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    """
    run = run_aws({"environment": "prod"})
    policy = run.inputs("aws:kms/key:Key", "mlops-key", parse_json=True)["policy"]
    document = policy if isinstance(policy, dict) else json.loads(policy)
    account, logs = document["Statement"]
    assert account == {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": (
                "arn:aws:logs:eu-west-1:123456789012:log-group:*"
            )
        }
    }
    assert not [a for a in logs["Action"] if a in ("kms:*", "kms:CreateGrant", "kms:PutKeyPolicy")]


def test_no_registry_and_given_key() -> None:
    given = "arn:aws:kms:eu-west-1:123456789012:key/secrets"
    run = run_aws({"registry": {"create": False}, "secrets": {"encryption_key": given}})
    assert children(run, FOUNDATION, "mlops") == set()


def test_created_network_is_private_with_endpoints() -> None:
    run = run_aws({"network": {"create": True, "cidr": "10.50.0.0/16", "zones": 3}})
    names = children(run, FOUNDATION, "mlops")
    subnets = [run.one("aws:ec2/subnet:Subnet", f"mlops-private-{i}") for i in range(3)]
    assert [s.plain_inputs()["cidrBlock"] for s in subnets] == [
        "10.50.0.0/19",
        "10.50.32.0/19",
        "10.50.64.0/19",
    ]
    assert [s.plain_inputs()["availabilityZone"] for s in subnets] == [
        "eu-west-1a",
        "eu-west-1b",
        "eu-west-1c",
    ]
    assert all(s.plain_inputs()["mapPublicIpOnLaunch"] is False for s in subnets)
    # No internet gateway, NAT gateway or public route anywhere.
    public = {
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
    }
    assert not {t for t, _ in names} & public
    assert "routes" not in run.inputs("aws:ec2/routeTable:RouteTable", "mlops-private")
    endpoints = {
        name: run.inputs("aws:ec2/vpcEndpoint:VpcEndpoint", f"mlops-{name}") for name in STANDARD
    }
    assert endpoints["sagemaker-api"]["serviceName"] == "com.amazonaws.eu-west-1.sagemaker.api"
    assert all(
        e["privateDnsEnabled"] and e["vpcEndpointType"] == "Interface" for e in endpoints.values()
    )
    s3 = run.inputs("aws:ec2/vpcEndpoint:VpcEndpoint", "mlops-s3")
    assert (s3["vpcEndpointType"], s3["serviceName"]) == ("Gateway", "com.amazonaws.eu-west-1.s3")
    https_in = run.inputs(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "mlops-endpoints-https-in"
    )
    assert (https_in["cidrIpv4"], https_in["fromPort"], https_in["toPort"]) == (
        "10.50.0.0/16",
        443,
        443,
    )
    egress = run.inputs(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "mlops-workloads-https-out"
    )
    assert egress["cidrIpv4"] == "10.50.0.0/16"


def test_adopted_network_gets_only_a_workloads_group() -> None:
    run = run_aws(
        {"network": {"existing": {"id": "vpc-123", "private_subnet_ids": ["subnet-a", "subnet-b"]}}}
    )
    network = {
        (t, n)
        for t, n in children(run, FOUNDATION, "mlops")
        if t.startswith(("aws:ec2", "aws:vpc"))
    }
    assert network == {
        ("aws:ec2/securityGroup:SecurityGroup", "mlops-workloads"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "mlops-workloads-self-in"),
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "mlops-workloads-self-out"),
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "mlops-workloads-https-out"),
    }
    assert (
        run.inputs("aws:ec2/securityGroup:SecurityGroup", "mlops-workloads")["vpcId"] == "vpc-123"
    )


@pytest.mark.parametrize(("environment", "flow_logs"), [("dev", False), ("prod", True)])
def test_created_vpc_closes_its_default_group_and_logs_flows_in_production(
    environment: str, flow_logs: bool
) -> None:
    """13.8: the default security group loses every rule; production records every flow."""
    run = run_aws({"environment": environment, "network": {"create": True}})
    default = run.inputs("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "mlops-default-sg")
    assert default["vpcId"] == "mlops-vpc-id"
    assert "ingress" not in default
    assert "egress" not in default
    logs = [r for r in run.registrations if r.type == "aws:ec2/flowLog:FlowLog"]
    assert bool(logs) is flow_logs
    if not flow_logs:
        return
    (flow,) = [r.plain_inputs() for r in logs]
    assert (flow["vpcId"], flow["trafficType"], flow["logDestinationType"]) == (
        "mlops-vpc-id", "ALL", "cloud-watch-logs",
    )  # fmt: skip
    group = run.inputs("aws:cloudwatch/logGroup:LogGroup", "mlops-flow-logs")
    assert group["name"] == "/mlops/prod/vpc-flow-logs"
    assert group["retentionInDays"] == 365
    assert group["kmsKeyId"].endswith(":key/mlops-key")
    trust = run.inputs("aws:iam/role:Role", "mlops-flow-logs-role", parse_json=True)[
        "assumeRolePolicy"
    ]
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
