"""The stack's private network: a VPC with private subnets, no internet route, VPC endpoints.

Created only when ``network.create`` is set. Workloads (training jobs, pipeline steps,
endpoints, the self-hosted tracking server) run in the private subnets with the
``workloads`` security group and reach AWS services through VPC endpoints: nothing in the
network has a public IP or a route to the internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import ec2, get_availability_zones_output, vpc

from mlops_infra.backends.aws._endpoints import CATALOG, endpoint_roles
from mlops_infra.backends.aws._iam import ArgsT, logs_write, service_role
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.outputs import concat
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import BuildContext
from mlops_infra.specs import NetworkSpec

resolve_sdk_names_on_demand()

__all__ = ["Network", "create_network", "workload_group"]


@dataclass(frozen=True)
class Network:
    """What a created or adopted network gives the workloads.

    Attributes:
        vpc_id: The VPC.
        subnet_ids: Private subnets.
        security_group_id: The workloads' security group.
    """

    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_id: pulumi.Output[str]


def _subnet_ranges(cidr: str, zones: int) -> list[str]:
    network = ipaddress.ip_network(cidr)
    new_prefix = min(network.prefixlen + 3, 28)
    return [str(subnet) for subnet in list(network.subnets(new_prefix=new_prefix))[:zones]]


def workload_group(
    ctx: BuildContext[ArgsT], scope: AwsScope, vpc_id: pulumi.Input[str], vpc_cidr: str | None
) -> ec2.SecurityGroup:
    """The workloads' security group: talk among themselves (distributed training) and out.

    Egress goes to the VPC's range when it is known (a created network, whose AWS services
    are VPC endpoints), else to port 443 anywhere (an adopted network may use a NAT).
    """
    group = ec2.SecurityGroup(
        ctx.child_name("workloads"),
        vpc_id=vpc_id,
        description="mlops-infra workloads (training, pipelines, endpoints)",
        revoke_rules_on_delete=True,
        tags=ctx.tags({"Name": f"{ctx.stack_name}-workloads"}),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    vpc.SecurityGroupIngressRule(
        ctx.child_name("workloads-self-in"),
        security_group_id=group.id,
        referenced_security_group_id=group.id,
        ip_protocol="-1",
        description="between workload nodes (distributed training)",
        tags=ctx.tags(),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    vpc.SecurityGroupEgressRule(
        ctx.child_name("workloads-self-out"),
        security_group_id=group.id,
        referenced_security_group_id=group.id,
        ip_protocol="-1",
        description="between workload nodes (distributed training)",
        tags=ctx.tags(),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    vpc.SecurityGroupEgressRule(
        ctx.child_name("workloads-https-out"),
        security_group_id=group.id,
        cidr_ipv4=vpc_cidr or "0.0.0.0/0",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        description="AWS APIs (VPC endpoints) and the tracking server",
        tags=ctx.tags(),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    return group


def create_network(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    spec: NetworkSpec,
    uses: Iterable[str],
    key_arn: pulumi.Input[str],
) -> Network:
    """Creates the VPC, its private subnets and route table, endpoints and security groups.

    ``uses``: ``<kind>/<flavor>`` of the stack's components, whose needed interface
    endpoints are created (:func:`~mlops_infra.backends.aws._endpoints.endpoint_roles`).
    The VPC's default security group is emptied (nothing uses it, so nothing may pass
    through it); in production the VPC's flow logs go to a log group encrypted with
    ``key_arn``.

    Raises:
        BackendError: ``network.endpoints`` names an unknown endpoint or lacks a needed one.
    """
    roles = endpoint_roles(spec.endpoints, uses)
    network = ec2.Vpc(
        ctx.child_name("vpc"),
        cidr_block=spec.cidr,
        enable_dns_support=True,
        enable_dns_hostnames=True,  # private DNS names of the interface endpoints
        tags=ctx.tags({"Name": f"{ctx.stack_name}-mlops"}),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    zones = get_availability_zones_output(
        state="available",
        region=scope.region_override,
        opts=pulumi.InvokeOutputOptions(parent=ctx.component),
    )
    routes = ec2.RouteTable(
        ctx.child_name("private"),
        vpc_id=network.id,
        tags=ctx.tags({"Name": f"{ctx.stack_name}-private"}),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    subnets: list[pulumi.Output[str]] = []
    for index, cidr in enumerate(_subnet_ranges(spec.cidr, spec.zones)):
        subnet = ec2.Subnet(
            ctx.child_name(f"private-{index}"),
            vpc_id=network.id,
            cidr_block=cidr,
            availability_zone=zones.apply(
                lambda z, i=index: z.names[i % len(z.names)] if z.names else None
            ),
            map_public_ip_on_launch=False,
            tags=ctx.tags({"Name": f"{ctx.stack_name}-private-{index}"}),
            opts=ctx.opts(),
            region=scope.region_override,
        )
        ec2.RouteTableAssociation(
            ctx.child_name(f"private-{index}-routes"),
            route_table_id=routes.id,
            subnet_id=subnet.id,
            opts=ctx.opts(),
            region=scope.region_override,
        )
        subnets.append(subnet.id)
    workloads = workload_group(ctx, scope, network.id, spec.cidr)
    endpoints = ec2.SecurityGroup(
        ctx.child_name("endpoints"),
        vpc_id=network.id,
        description="VPC interface endpoints: HTTPS from inside the VPC",
        revoke_rules_on_delete=True,
        tags=ctx.tags({"Name": f"{ctx.stack_name}-endpoints"}),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    vpc.SecurityGroupIngressRule(
        ctx.child_name("endpoints-https-in"),
        security_group_id=endpoints.id,
        cidr_ipv4=spec.cidr,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        description="HTTPS from the VPC",
        tags=ctx.tags(),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    s3_endpoint = ec2.VpcEndpoint(
        ctx.child_name("s3"),
        vpc_id=network.id,
        service_name=concat("com.amazonaws.", scope.region, ".s3"),
        vpc_endpoint_type="Gateway",
        route_table_ids=[routes.id],
        tags=ctx.tags({"Name": f"{ctx.stack_name}-s3"}),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    vpc.SecurityGroupEgressRule(
        ctx.child_name("workloads-s3-out"),
        security_group_id=workloads.id,
        prefix_list_id=s3_endpoint.prefix_list_id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        description="S3 through the gateway endpoint",
        tags=ctx.tags(),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    for role in roles:
        head, _, tail = CATALOG[role].partition("{region}")
        ec2.VpcEndpoint(
            ctx.child_name(role),
            vpc_id=network.id,
            service_name=concat(head, scope.region, tail),
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=subnets,
            security_group_ids=[endpoints.id],
            tags=ctx.tags({"Name": f"{ctx.stack_name}-{role}"}),
            opts=ctx.opts(),
            region=scope.region_override,
        )
    # Terraform's aws_default_security_group adopts the VPC's default group and removes
    # every rule it does not declare: no rules at all here (CIS AWS 5.4).
    ec2.DefaultSecurityGroup(
        ctx.child_name("default-sg"),
        vpc_id=network.id,
        tags=ctx.tags({"Name": f"{ctx.stack_name}-default-unused"}),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    if ctx.target.profile.tier == "production":
        _flow_logs(ctx, scope, network.id, key_arn)
    return Network(
        vpc_id=network.id,
        subnet_ids=pulumi.Output.all(*subnets),
        security_group_id=workloads.id,
    )


FLOW_LOG_RETENTION_DAYS = 365
"""Days a production VPC's flow logs are kept."""


def _flow_logs(
    ctx: BuildContext[ArgsT], scope: AwsScope, vpc_id: pulumi.Input[str], key_arn: pulumi.Input[str]
) -> None:
    """Every flow of the VPC, accepted and rejected, into an encrypted, retained log group.

    https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html: the delivery role
    is assumed by ``vpc-flow-logs.amazonaws.com`` and writes the group's streams.
    """
    # Loaded only where flow logs are on (production): pulumi_aws submodules are slow to import.
    from pulumi_aws import cloudwatch  # noqa: PLC0415

    group = cloudwatch.LogGroup(
        ctx.child_name("flow-logs"),
        name=f"/mlops/{ctx.stack_name}/vpc-flow-logs",
        retention_in_days=FLOW_LOG_RETENTION_DAYS,
        # The stack key's policy lets CloudWatch Logs use it (foundation.key_policy).
        kms_key_id=key_arn,
        tags=ctx.tags(),
        opts=ctx.opts(stateful=True),
        region=scope.region_override,
    )
    delivery = service_role(
        ctx,
        "flow-logs-role",
        "vpc-flow-logs.amazonaws.com",
        scope,
        logs_write([group.arn]),
        description=f"{ctx.stack_name}: deliver the VPC's flow logs",
    )
    ec2.FlowLog(
        ctx.child_name("flow-log"),
        vpc_id=vpc_id,
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=group.arn,
        iam_role_arn=delivery.arn,
        max_aggregation_interval=600,
        tags=ctx.tags(),
        opts=ctx.opts(depends_on=[delivery.policy]),
        region=scope.region_override,
    )
