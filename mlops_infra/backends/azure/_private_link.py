"""Private endpoints with their private DNS zones, for stacks with a private network.

Each endpoint registers its address in the ``privatelink.*`` zone(s) of its service
(https://learn.microsoft.com/en-us/azure/private-link/private-endpoint-dns): the stack
creates them and links them to its network, or, with
``network.existing.private_dns_zone_ids`` (hub and spoke: zones kept and linked centrally;
a network cannot be linked to two zones of one name,
https://learn.microsoft.com/en-us/azure/dns/private-dns-virtual-network-links), uses those.

Imported only when the stack has a network: ``pulumi_azure_native.network`` alone costs
about 450 ms to import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import network, privatedns

from mlops_infra.backends.azure._scope import AnyContext, AzureFoundationRef
from mlops_infra.errors import BackendError

__all__ = ["PRIVATE_DNS_ZONES", "check_zone_ids", "private_endpoint"]

PRIVATE_DNS_ZONES = (
    "privatelink.api.azureml.ms",
    "privatelink.azurecr.io",
    "privatelink.blob.core.windows.net",
    "privatelink.file.core.windows.net",
    "privatelink.notebooks.azure.net",
    "privatelink.vaultcore.azure.net",
)
"""Every zone the backend's private endpoints register in (Azure public cloud names)."""

_FIELD = "network.existing.private_dns_zone_ids"


def check_zone_ids(zone_ids: Mapping[str, str]) -> None:
    """Refuses zone names the backend does not use and ids naming another zone.

    Raises:
        BackendError: a name is unknown, or its id does not end in that zone's name.
    """
    for zone, zone_id in zone_ids.items():
        if zone not in PRIVATE_DNS_ZONES:
            msg = (
                f"{_FIELD}: unknown zone {zone!r}; the azure backend uses "
                f"{', '.join(PRIVATE_DNS_ZONES)}"
            )
            raise BackendError(msg)
        tail = f"/providers/microsoft.network/privatednszones/{zone}"
        if not zone_id.lower().endswith(tail):
            msg = (
                f"{_FIELD}: {zone!r} names {zone_id!r}, not a private DNS zone of that name "
                f"(.../providers/Microsoft.Network/privateDnsZones/{zone})"
            )
            raise BackendError(msg)


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
    to the virtual network, so names resolve to the private address inside the network;
    with the foundation's existing zones, registers in those instead (no zones, no links).

    Raises:
        BackendError: the foundation has no private network, or its existing zones lack one
            of ``zones``.
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
        if foundation.private_dns_zone_ids is not None:
            configs.append(
                network.PrivateDnsZoneConfigArgs(
                    name=f"zone-{index}",
                    private_dns_zone_id=_given_zone(foundation.private_dns_zone_ids, zone_name),
                )
            )
            continue
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


def _given_zone(zone_ids: Mapping[str, str], zone: str) -> str:
    if zone not in zone_ids:
        msg = (
            f"{_FIELD} has no {zone!r}: give the id of every zone the stack's private "
            f"endpoints use, or leave the field out to have the stack create them"
        )
        raise BackendError(msg)
    return zone_ids[zone]
