"""Which interface endpoints a created VPC gets: a standard set with components' needs, or a list.

A created network has no route to the internet, so every AWS API its workloads call needs
an interface endpoint (S3 has a gateway endpoint, always created). Each interface endpoint
costs about 0.01 USD per hour and zone (AWS PrivateLink pricing), so the set is a choice:
``network.endpoints`` lists the ones to create, and what a component cannot work without
is refused if missing, naming the component.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from mlops_infra.errors import BackendError

__all__ = ["CATALOG", "COMPONENT_NEEDS", "STANDARD", "endpoint_roles"]

CATALOG: Mapping[str, str] = MappingProxyType({
    "sagemaker-api": "com.amazonaws.{region}.sagemaker.api",
    "sagemaker-runtime": "com.amazonaws.{region}.sagemaker.runtime",
    # SageMaker managed MLflow tracking servers over PrivateLink (steps log through it).
    "mlflow": "aws.sagemaker.{region}.experiments",
    "ecr-api": "com.amazonaws.{region}.ecr.api",
    "ecr-dkr": "com.amazonaws.{region}.ecr.dkr",
    "logs": "com.amazonaws.{region}.logs",
    "sts": "com.amazonaws.{region}.sts",
    "secretsmanager": "com.amazonaws.{region}.secretsmanager",
    "monitoring": "com.amazonaws.{region}.monitoring",
    # The ECS agent of AWS Batch compute environments registers and reports through these
    # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html).
    "ecs": "com.amazonaws.{region}.ecs",
    "ecs-agent": "com.amazonaws.{region}.ecs-agent",
    "ecs-telemetry": "com.amazonaws.{region}.ecs-telemetry",
})  # fmt: skip
"""Every interface endpoint a created network can have: name → service name."""

STANDARD: tuple[str, ...] = (
    "sagemaker-api", "sagemaker-runtime", "mlflow", "ecr-api", "ecr-dkr", "logs", "sts",
    "secretsmanager", "monitoring",
)  # fmt: skip
"""The endpoints a created network gets when the stack lists none (plus components' needs)."""

_BATCH = frozenset({"ecs", "ecs-agent", "ecs-telemetry", "ecr-api", "ecr-dkr", "logs"})

COMPONENT_NEEDS: Mapping[str, frozenset[str]] = MappingProxyType({
    # Without the ECS endpoints the agent never registers: jobs stay RUNNABLE.
    "training_cluster/batch": _BATCH,
    "training_job/batch": _BATCH,
    # The Fargate task pulls its image, reads its secrets and writes its logs.
    "tracking_server/self-hosted": frozenset({"ecr-api", "ecr-dkr", "logs", "secretsmanager"}),
})  # fmt: skip
"""``<kind>/<flavor>`` → the endpoints it cannot work without in a created network."""


def endpoint_roles(listed: Iterable[str] | None, uses: Iterable[str]) -> tuple[str, ...]:
    """The endpoints to create, in catalog order.

    Args:
        listed: ``network.endpoints`` (``None``: the standard set).
        uses: ``<kind>/<flavor>`` of the stack's components.

    Raises:
        BackendError: a listed name is unknown, or the list lacks what a component needs.
    """
    needs = {use: COMPONENT_NEEDS[use] for use in sorted(set(uses)) if use in COMPONENT_NEEDS}
    if listed is None:
        chosen = set(STANDARD).union(*needs.values())
    else:
        chosen = set(listed)
        unknown = sorted(chosen - set(CATALOG))
        if unknown:
            msg = f"network.endpoints: unknown {unknown}; allowed: {', '.join(CATALOG)}"
            raise BackendError(msg)
        missing = [
            f"{use} needs {sorted(need - chosen)}" for use, need in needs.items() if need - chosen
        ]
        if missing:
            msg = (
                f"network.endpoints {sorted(chosen)} lacks endpoints the stack's components "
                f"need in a network without an internet route: {'; '.join(missing)}"
            )
            raise BackendError(msg)
    return tuple(name for name in CATALOG if name in chosen)
