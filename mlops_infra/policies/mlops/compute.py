"""GPU and cost guardrails from the spec's ``limits``: per node, in total, per hour."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.mlops.prices import gpus_per_node, hourly_usd
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_COMPUTE_TYPES = ("mlops:index:TrainingCluster", "mlops:index:ServingEndpoint")
_STACK_TYPE = ("mlops:index:MlopsStack",)


def _gpus_per_node(resource: PlannedResource, context: PolicyContext) -> Outcome:
    compute = context.facts.compute_of(resource.name)
    if compute is None:
        return not_applicable("no compute recorded for this component")
    gpu, count = gpus_per_node(compute, context.facts.cloud)
    if gpu is None:
        return not_applicable("runs on CPU")
    cap = context.facts.limits.max_gpus_per_node
    if count > cap:
        return violation(
            f"{compute.kind} {compute.name!r} asks for {count} x {gpu} per node; "
            f"limits.max_gpus_per_node is {cap}"
        )
    return compliant()


def _total_gpus(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del resource
    parts = [
        (c, gpus_per_node(c, context.facts.cloud)[1] * c.max_nodes) for c in context.facts.compute
    ]
    total = sum(count for _, count in parts)
    cap = context.facts.limits.max_total_gpus
    if total > cap:
        largest = ", ".join(
            f"{c.kind} {c.name}: {count}"
            for c, count in sorted(parts, key=lambda p: -p[1])
            if count
        )
        return violation(f"{total} GPUs at full scale ({largest}); limits.max_total_gpus is {cap}")
    return compliant()


def _hourly_cost(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del resource
    cap = context.facts.limits.max_hourly_usd
    if cap is None:
        return not_applicable("limits.max_hourly_usd is not set")
    total = sum(hourly_usd(c, context.facts.cloud) for c in context.facts.compute)
    if total > cap:
        return violation(
            f"compute costs about ${total:,.2f}/h at full scale (list prices); "
            f"limits.max_hourly_usd is ${cap:,.2f}"
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-GPU-001",
        title="GPUs per node within limits.max_gpus_per_node",
        pack="mlops",
        types=_COMPUTE_TYPES,
        check=_gpus_per_node,
        severity="high",
        remediation="lower gpu_count, or raise limits.max_gpus_per_node deliberately",
    ),
    Rule(
        id="MLOPS-GPU-002",
        title="GPUs of all clusters and endpoints at full scale within limits.max_total_gpus",
        pack="mlops",
        types=_STACK_TYPE,
        check=_total_gpus,
        severity="high",
        remediation="lower max_nodes / max_replicas or gpu_count, or raise the limit",
    ),
    Rule(
        id="MLOPS-COST-001",
        title="Hourly compute cost at full scale within limits.max_hourly_usd",
        pack="mlops",
        types=_STACK_TYPE,
        check=_hourly_cost,
        severity="high",
        remediation="shrink the compute, or raise limits.max_hourly_usd deliberately",
    ),
)
