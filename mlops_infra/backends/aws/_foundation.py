"""What workloads take from the foundation: its network, registry and key, typed for AWS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from mlops_infra.resources import FoundationRef

__all__ = ["WorkloadNetwork", "network_of", "registry_image"]


def _strings(values: Sequence[str] | None) -> list[str]:
    return [str(v) for v in values or []]


@dataclass(frozen=True)
class WorkloadNetwork:
    """The private network workloads run in.

    Attributes:
        vpc_id: The VPC.
        subnet_ids: Private subnets.
        security_group_ids: The workloads' security groups.
    """

    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    security_group_ids: pulumi.Output[list[str]]


def network_of(foundation: FoundationRef | None) -> WorkloadNetwork | None:
    """The foundation's network, or ``None`` when the stack has none (plain, known early)."""
    if foundation is None or foundation.network_id is None:
        return None
    return WorkloadNetwork(
        vpc_id=pulumi.Output.from_input(foundation.network_id).apply(lambda v: str(v or "")),
        subnet_ids=pulumi.Output.from_input(foundation.private_subnet_ids).apply(_strings),
        security_group_ids=pulumi.Output.from_input(foundation.security_group_ids).apply(_strings),
    )


def registry_image(foundation: FoundationRef | None, tag: str) -> pulumi.Output[str] | None:
    """``<stack registry>:<tag>``, or ``None`` when the stack has no registry."""
    if foundation is None or foundation.registry_url is None:
        return None
    return pulumi.Output.concat(
        pulumi.Output.from_input(foundation.registry_url).apply(lambda u: str(u or "")), ":", tag
    )
