"""Private endpoints with their private DNS zones, for stacks with a private network.

Imported only when the stack has a network: ``pulumi_azure_native.network`` alone costs
about 450 ms to import.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_azure_native import network, privatedns

from mlops_infra.backends.azure._scope import AnyContext, AzureFoundationRef
from mlops_infra.errors import BackendError

__all__ = ["private_endpoint"]


def private_endpoint(
    ctx: AnyContext,
    role: str,
    *,
    foundation: AzureFoundationRef,
    target_id: pulumi.Input[str],
    group_id: str,
    zones: Sequence[str],
) -> network.PrivateEndpoint:
    """Connects ``target_id``'s ``group_id`` sub-resource to the stack's private subnet.

    Creates ``<name>-<role>-pe`` and, per DNS zone, ``<name>-<role>-dns-<i>`` with its link
    to the virtual network, so names resolve to the private address inside the network.

    Raises:
        BackendError: the foundation has no private network.
    """
    if foundation.endpoint_subnet_id is None or foundation.network_id is None:
        msg = f"{ctx.name}: a private endpoint needs the foundation's network and subnet"
        raise BackendError(msg)
    group = foundation.resource_group_name
    endpoint = network.PrivateEndpoint(
        ctx.child_name(f"{role}-pe"),
        resource_group_name=group,
        location=foundation.location,
        subnet=network.SubnetArgs(id=foundation.endpoint_subnet_id),
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name=f"{ctx.name}-{role}",
                private_link_service_id=target_id,
                group_ids=[group_id],
            )
        ],
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    configs: list[network.PrivateDnsZoneConfigArgs] = []
    for index, zone_name in enumerate(zones):
        zone = privatedns.PrivateZone(
            ctx.child_name(f"{role}-dns-{index}"),
            resource_group_name=group,
            private_zone_name=zone_name,
            location="Global",
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
        privatedns.VirtualNetworkLink(
            ctx.child_name(f"{role}-dns-{index}-link"),
            resource_group_name=group,
            private_zone_name=zone.name,
            location="Global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=foundation.network_id),
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
        configs.append(
            network.PrivateDnsZoneConfigArgs(name=f"zone-{index}", private_dns_zone_id=zone.id)
        )
    network.PrivateDnsZoneGroup(
        ctx.child_name(f"{role}-pe-dns"),
        resource_group_name=group,
        private_endpoint_name=endpoint.name,
        private_dns_zone_group_name="default",
        private_dns_zone_configs=configs,
        opts=ctx.opts(),
    )
    return endpoint
