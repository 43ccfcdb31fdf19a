"""Network and logs: closed ingress, HTTPS, encrypted retained logs, VPC hygiene, schedules.

No ingress from the internet, HTTPS listeners, encrypted log groups with retention, flow
logs and an empty default security group on created VPCs, encrypted schedules.
"""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_list, as_mapping, as_strings, is_open_cidr
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_SG = "aws:ec2/securityGroup:SecurityGroup"
_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
_LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
_LOG_GROUP = ("aws:cloudwatch/logGroup:LogGroup",)
_TLS12_POLICIES = ("TLS13", "TLS-1-2", "FS-1-2")
_VPC = "aws:ec2/vpc:Vpc"
_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
_DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
_SCHEDULE = "aws:scheduler/schedule:Schedule"


def _open_ingress(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    inputs = resource.inputs
    if resource.type == _SG:
        rules = [as_mapping(r) for r in as_list(inputs.get("ingress"))]
    elif resource.type == _SG_RULE:
        if inputs.get("type") != "ingress":
            return not_applicable("an egress rule")
        rules = [inputs]
    else:
        rules = [{"cidrBlocks": inputs.get("cidrIpv4"), "ipv6CidrBlocks": inputs.get("cidrIpv6")}]
    open_rules = [
        r
        for r in rules
        if any(
            is_open_cidr(c)
            for c in as_strings(r.get("cidrBlocks")) + as_strings(r.get("ipv6CidrBlocks"))
        )
    ]
    if open_rules:
        ports = ", ".join(
            f"{r.get('fromPort', 'all')}-{r.get('toPort', 'all')}" for r in open_rules
        )
        return violation(f"ingress from the whole internet (0.0.0.0/0 or ::/0) on ports {ports}")
    return compliant()


def _https(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    protocol = resource.inputs.get("protocol")
    if protocol == "HTTP":
        actions = [as_mapping(a) for a in as_list(resource.inputs.get("defaultActions"))]
        if all(a.get("type") == "redirect" for a in actions) and actions:
            return compliant()
        return violation("listener serves plain HTTP; use HTTPS (or redirect to it)")
    if protocol in ("HTTPS", "TLS"):
        policy = str(resource.inputs.get("sslPolicy") or "")
        if policy and not any(marker in policy for marker in _TLS12_POLICIES):
            return violation(f"TLS policy {policy} allows TLS below 1.2")
    return compliant()


def _log_kms(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not resource.inputs.get("kmsKeyId"):
        return violation("log group is not encrypted with the stack's KMS key")
    return compliant()


def _log_retention(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    days = resource.inputs.get("retentionInDays")
    if not days:
        return violation("logs are kept forever; set retention_in_days")
    return compliant()


def _flow_logs(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    if not context.related(resource, (_FLOW_LOG,), via="vpcId"):
        return violation("the VPC has no flow log")
    return compliant()


def _default_group_closed(resource: PlannedResource, context: PolicyContext) -> Outcome:
    groups = context.related(resource, (_DEFAULT_SG,), via="vpcId")
    if not groups:
        return violation("the VPC's default security group keeps its default rules")
    for group in groups:
        if as_list(group.inputs.get("ingress")) or as_list(group.inputs.get("egress")):
            return violation("the VPC's default security group has rules")
    return compliant()


def _schedule_key(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not resource.inputs.get("kmsKeyArn"):
        return violation("schedule is encrypted with an AWS-owned key, not the stack's")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AWS-EC2-001",
        title="Security groups admit no ingress from the whole internet",
        pack="aws",
        types=(_SG, _SG_RULE, _INGRESS_RULE),
        check=_open_ingress,
        scanners=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"),
        severity="critical",
        remediation="admit only the VPC's CIDR or other security groups",
    ),
    Rule(
        id="MLOPS-AWS-LB-001",
        title="Load balancer listeners use HTTPS with TLS 1.2 or later",
        pack="aws",
        types=_LISTENERS,
        check=_https,
        scanners=("CKV_AWS_2", "CKV_AWS_103"),
        remediation="protocol HTTPS, ssl_policy ELBSecurityPolicy-TLS13-1-2-2021-06",
    ),
    Rule(
        id="MLOPS-AWS-LOGS-001",
        title="CloudWatch log groups are encrypted with a KMS key",
        pack="aws",
        types=_LOG_GROUP,
        check=_log_kms,
        scanners=("CKV_AWS_158",),
        severity="medium",
        remediation="set kms_key_id",
    ),
    Rule(
        id="MLOPS-AWS-LOGS-002",
        title="CloudWatch log groups have a retention period",
        pack="aws",
        types=_LOG_GROUP,
        check=_log_retention,
        scanners=("CKV_AWS_66",),
        severity="low",
        remediation="set retention_in_days",
    ),
    Rule(
        id="MLOPS-AWS-VPC-001",
        title="Production VPCs record flow logs",
        pack="aws",
        types=(_VPC,),
        check=_flow_logs,
        scanners=("CKV2_AWS_11",),
        severity="medium",
        remediation="an ec2.FlowLog on the VPC (the AWS foundation creates one in production)",
        uses_stack=True,
    ),
    Rule(
        id="MLOPS-AWS-VPC-002",
        title="A created VPC's default security group has no rules",
        pack="aws",
        types=(_VPC,),
        check=_default_group_closed,
        scanners=("CKV2_AWS_12",),
        severity="medium",
        remediation="declare ec2.DefaultSecurityGroup for the VPC with no ingress or egress",
        uses_stack=True,
    ),
    Rule(
        id="MLOPS-AWS-SCHED-001",
        title="EventBridge Scheduler schedules use a customer-managed key",
        pack="aws",
        types=(_SCHEDULE,),
        check=_schedule_key,
        scanners=("CKV_AWS_297",),
        severity="low",
        remediation="set kms_key_arn (the stack's key)",
    ),
)
