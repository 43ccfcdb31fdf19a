"""Where AWS components deploy: partition, account and region, and the foundation's network.

* :class:`AwsScope`: the partition, region and account the stack deploys into, looked up
  once per deployment and provider, for building ARNs.
* :func:`network_of` and :func:`registry_image`: what workloads take from the foundation's
  reference (its private network, its registry), typed for AWS.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi.runtime import settings
from pulumi_aws import get_caller_identity_output, get_partition_output, get_region_output

from mlops_infra.outputs import concat
from mlops_infra.resources import FoundationRef

__all__ = ["AwsScope", "WorkloadNetwork", "network_of", "registry_image"]


@dataclass(frozen=True)
class AwsScope:
    """Partition, region and account the stack deploys into, for building ARNs.

    Attributes:
        partition: ``aws``, ``aws-cn``, ``aws-us-gov``.
        region: The target's region, else the provider's.
        account_id: The deploying account.
        region_override: The target's region when the spec sets one (passed to every
            resource as ``region``), else ``None`` (the provider's region).
    """

    partition: pulumi.Output[str]
    region: pulumi.Output[str]
    account_id: pulumi.Output[str]
    region_override: str | None
    _prefixes: dict[tuple[str, bool], pulumi.Output[str]] = field(
        default_factory=dict[tuple[str, bool], pulumi.Output[str]], repr=False, compare=False
    )

    @classmethod
    def current(cls, region: str | None, parent: pulumi.Resource) -> AwsScope:
        """Looks up the caller's partition and account (and region unless ``region``).

        Once per deployment, provider and ``region``: every component of a stack that uses
        the same AWS provider shares the answers (the invokes take no inputs, and their
        outputs carry no dependencies, so sharing them changes no request).
        """
        monitor = settings.get_monitor()
        if monitor is None:
            return cls._look_up(region, parent)
        provider = parent.get_provider("aws:index/getPartition:getPartition")
        scopes = _SCOPES.setdefault(monitor, {})
        key = (provider, region)
        if key not in scopes:
            scopes[key] = cls._look_up(region, parent)
        return scopes[key]

    @classmethod
    def _look_up(cls, region: str | None, parent: pulumi.Resource) -> AwsScope:
        opts = pulumi.InvokeOutputOptions(parent=parent)
        partition = get_partition_output(opts=opts).apply(lambda r: r.partition or "aws")
        account = get_caller_identity_output(opts=opts).apply(
            lambda r: str(r.account_id or "unknown-account")
        )
        resolved = (
            pulumi.Output.from_input(region)
            if region
            else get_region_output(opts=opts).apply(lambda r: str(r.region or "unknown-region"))
        )
        return cls(partition=partition, region=resolved, account_id=account, region_override=region)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        # One prefix per service: each ARN is then one apply on it, not nine gathered outputs.
        key = (service, regional)
        prefix = self._prefixes.get(key)
        if prefix is None:
            region = self.region if regional else ""
            prefix = concat(
                "arn:", self.partition, ":", service, ":", region, ":", self.account_id, ":"
            )
            self._prefixes[key] = prefix
        return concat(prefix, resource)

    def global_arn(self, service: str, resource: str) -> pulumi.Output[str]:
        """An ARN without region or account (``arn:aws:s3:::bucket``)."""
        return concat("arn:", self.partition, ":", service, ":::", resource)


# Per resource monitor (one per deployment or mocked run), so that a new run, or a test with
# other mocks, never sees another's answers.
_SCOPES: weakref.WeakKeyDictionary[
    object, dict[tuple[pulumi.ProviderResource | None, str | None], AwsScope]
] = weakref.WeakKeyDictionary()


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
    return concat(
        pulumi.Output.from_input(foundation.registry_url).apply(lambda u: str(u or "")), ":", tag
    )
