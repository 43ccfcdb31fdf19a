"""The stack's virtual network: a workload subnet behind a NAT gateway, an endpoint subnet.

Imported only when ``network.create`` is set (``pulumi_azure_native.network`` costs about
450 ms to import).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from mlops_infra.backends.azure._scope import AnyContext
from mlops_infra.resources.foundation import refuse_endpoint_list
from mlops_infra.specs import NetworkSpec

__all__ = ["CreatedNetwork", "create_network", "subnet_ranges"]


def subnet_ranges(cidr: str) -> tuple[str, str]:
    """Splits ``cidr`` into the workload subnet and the private-endpoint subnet.

    Each is the first and second quarter of the range: a /16 gives two /18s, a /24 two /26s.
    """
    parent = ipaddress.ip_network(cidr, strict=True)
    new_prefix = min(parent.prefixlen + 2, 26)
    first, second, *_ = parent.subnets(new_prefix=new_prefix)
    return str(first), str(second)


@dataclass(frozen=True)
class CreatedNetwork:
    """Ids of the created network.

    Attributes:
        network_id: Virtual network.
        workload_subnet_id: Subnet of compute nodes (no default outbound access).
        endpoint_subnet_id: Subnet of private endpoints.
        security_group_id: Network security group of the workload subnet.
    """

    network_id: pulumi.Output[str]
    workload_subnet_id: pulumi.Output[str]
    endpoint_subnet_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]


def create_network(
    ctx: AnyContext,
    spec: NetworkSpec,
    *,
    resource_group_name: pulumi.Input[str],
    location: str | None,
) -> CreatedNetwork:
    """Creates ``<name>-vnet`` with ``workloads`` and ``endpoints`` subnets and an NSG.

    The NSG keeps Azure's default rules (inbound only from the virtual network and the
    load balancer); workload subnets have no default outbound access, so nodes get no
    implicit public IP: their outbound path is the NAT gateway ``<name>-nat`` (one static
    public address ``<name>-nat-ip``; billed per hour and per GB processed).

    Raises:
        BackendError: ``network.endpoints`` is set (private endpoints are per resource).
    """
    refuse_endpoint_list(ctx.target, "private endpoints are created per resource")
    workloads, endpoints = subnet_ranges(spec.cidr)
    vnet = network.VirtualNetwork(
        ctx.child_name("vnet"),
        resource_group_name=resource_group_name,
        location=location,
        address_space=network.AddressSpaceArgs(address_prefixes=[spec.cidr]),
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    nsg = network.NetworkSecurityGroup(
        ctx.child_name("nsg"),
        resource_group_name=resource_group_name,
        location=location,
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    # Nodes have no public IPs and the subnet no default outbound access: the NAT gateway is
    # their explicit way out (Azure ML services, package indexes for image builds).
    # https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/default-outbound-access
    address = network.PublicIPAddress(
        ctx.child_name("nat-ip"),
        resource_group_name=resource_group_name,
        location=location,
        sku=network.PublicIPAddressSkuArgs(name="Standard"),
        public_ip_allocation_method="Static",
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    nat = network.NatGateway(
        ctx.child_name("nat"),
        resource_group_name=resource_group_name,
        location=location,
        sku=network.NatGatewaySkuArgs(name="Standard"),
        public_ip_addresses=[network.SubResourceArgs(id=address.id)],
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    workload_subnet = network.Subnet(
        ctx.child_name("subnet-workloads"),
        resource_group_name=resource_group_name,
        virtual_network_name=vnet.name,
        subnet_name="workloads",
        address_prefix=workloads,
        default_outbound_access=False,
        nat_gateway=network.SubResourceArgs(id=nat.id),
        network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
        opts=ctx.opts(),
    )
    # Subnets of one network are changed one at a time (Azure rejects concurrent updates).
    endpoint_subnet = network.Subnet(
        ctx.child_name("subnet-endpoints"),
        resource_group_name=resource_group_name,
        virtual_network_name=vnet.name,
        subnet_name="endpoints",
        address_prefix=endpoints,
        default_outbound_access=False,
        private_endpoint_network_policies="Enabled",
        opts=ctx.opts(depends_on=[workload_subnet]),
    )
    return CreatedNetwork(
        network_id=vnet.id,
        workload_subnet_id=workload_subnet.id,
        endpoint_subnet_id=endpoint_subnet.id,
        security_group_id=nsg.id,
    )
