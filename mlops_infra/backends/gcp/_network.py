"""The stack's VPC network: a private subnet, firewall, Cloud NAT, Private Service Access.

Imported only when ``network.create`` is set: ``pulumi_gcp.compute`` costs ~800 ms.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute, servicenetworking

from mlops_infra.backends.gcp._naming import gcp_labels, physical_name
from mlops_infra.backends.gcp._scope import project_id
from mlops_infra.backends.gcp.options import GcpNetworkOptions
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import BuildContext, FoundationArgs
from mlops_infra.resources.foundation import refuse_endpoint_list

resolve_sdk_names_on_demand()

__all__ = ["CreatedNetwork", "create_network", "flow_log_config", "private_subnet_range"]


def private_subnet_range(cidr: str) -> str:
    """Returns the workload subnet's range: the first half of ``cidr`` (at most a /24).

    The other half stays free for later subnets (e.g. a GKE cluster's secondary ranges).
    """
    network = ipaddress.ip_network(cidr)
    prefix = min(network.prefixlen + 1, 24)
    return str(next(network.subnets(new_prefix=prefix)))


def flow_log_config(tier: str) -> compute.SubnetworkLogConfigArgs:
    """Returns the subnet's flow log settings for an environment tier.

    Staging and production log half the flows with all metadata; local and development
    environments a tenth, without metadata.

    Flow logs are billed by the volume they generate
    (https://cloud.google.com/vpc/network-pricing#network-telemetry); sampling and
    metadata are the two levers (https://cloud.google.com/vpc/docs/flow-logs).
    """
    cheap = tier in ("local", "development")
    return compute.SubnetworkLogConfigArgs(
        aggregation_interval="INTERVAL_10_MIN",
        flow_sampling=0.1 if cheap else 0.5,
        metadata="EXCLUDE_ALL_METADATA" if cheap else "INCLUDE_ALL_METADATA",
    )


def _firewall(
    ctx: BuildContext[FoundationArgs], network: compute.Network, subnet: compute.Subnetwork
) -> None:
    """Denies all ingress explicitly, then admits the private subnet's own traffic.

    A VPC's implied rules already deny ingress at priority 65535
    (https://cloud.google.com/firewall/docs/firewalls#default_firewall_rules); the explicit
    rule (65534) makes it visible, logs what it drops outside development, and keeps a later
    broad allow from going unnoticed (policy MLOPS-GCP-VPC-001). What the stack needs is the
    subnet talking to itself (GKE nodes and pods, distributed jobs); GKE adds its own rules
    for the control plane at priority 1000
    (https://cloud.google.com/kubernetes-engine/docs/concepts/firewall-rules). Cloud SQL
    and Vertex AI sit across the peering and answer connections the subnet opens, which
    ingress rules do not filter (firewall rules are stateful).
    """
    logged = ctx.target.profile.tier not in ("local", "development")
    compute.Firewall(
        ctx.child_name("deny-ingress"),
        network=network.id,
        direction="INGRESS",
        priority=65534,
        denies=[compute.FirewallDenyArgs(protocol="all")],
        source_ranges=["0.0.0.0/0"],
        log_config=(
            compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA") if logged else None
        ),
        description="mlops-infra: deny all ingress not allowed by a higher-priority rule",
        project=project_id(),
        opts=ctx.opts(),
    )
    compute.Firewall(
        ctx.child_name("allow-internal"),
        network=network.id,
        direction="INGRESS",
        priority=1000,
        allows=[compute.FirewallAllowArgs(protocol="all")],
        source_ranges=[subnet.ip_cidr_range],
        description="mlops-infra: the private subnet's workloads reach each other",
        project=project_id(),
        opts=ctx.opts(),
    )


@dataclass(frozen=True)
class CreatedNetwork:
    """What the foundation hands on of the network it created.

    Attributes:
        network_id: Network id; resolves only once Private Service Access is connected,
            so that a Cloud SQL instance on it waits for the peering.
        subnet_id: The private workload subnet.
        sql_range: Name of the Private Service Access range Cloud SQL instances use.
    """

    network_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    sql_range: pulumi.Output[str]


def create_network(ctx: BuildContext[FoundationArgs], region: str) -> CreatedNetwork:
    """Creates the network ``<name>-network`` and what makes it private and usable.

    Raises:
        BackendError: ``network.endpoints`` is set (no per-service endpoints on GCP).
    """
    refuse_endpoint_list(ctx.target, "Google APIs are reached by Private Google Access")
    spec = ctx.target.network
    network = compute.Network(
        ctx.child_name("network"),
        name=physical_name(ctx.child_name("network"), max_length=63, salt=ctx.stack_name),
        auto_create_subnetworks=False,
        routing_mode="REGIONAL",
        project=project_id(),
        description=f"mlops-infra stack {ctx.stack_name}",
        opts=ctx.opts(),
    )
    subnet = compute.Subnetwork(
        ctx.child_name("private"),
        name=physical_name(ctx.child_name("private"), max_length=63, salt=ctx.stack_name),
        network=network.id,
        region=region,
        ip_cidr_range=private_subnet_range(spec.cidr),
        # Google APIs (GCS, Vertex AI, Artifact Registry) without public IPs.
        private_ip_google_access=True,
        log_config=flow_log_config(ctx.target.profile.tier),
        project=project_id(),
        opts=ctx.opts(),
    )
    _firewall(ctx, network, subnet)
    router = compute.Router(
        ctx.child_name("router"),
        network=network.id,
        region=region,
        project=project_id(),
        opts=ctx.opts(),
    )
    # Outbound internet (package installs, public datasets) without public IPs on workloads.
    compute.RouterNat(
        ctx.child_name("nat"),
        router=router.name,
        region=region,
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[
            compute.RouterNatSubnetworkArgs(
                name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"]
            )
        ],
        log_config=compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        project=project_id(),
        opts=ctx.opts(),
    )
    # Private Service Access, split: Cloud SQL is placed in its own range (the instance
    # names it), so that Vertex AI's parallel jobs cannot exhaust it, and Vertex AI gets a
    # range sized by its guide. Sizes: GcpNetworkOptions. (A description would replace
    # the Cloud SQL range of an existing stack: the field cannot change.)
    options = ctx.options_as(GcpNetworkOptions)
    sql_range = compute.GlobalAddress(
        ctx.child_name("psa-range"),
        purpose="VPC_PEERING",
        address_type="INTERNAL",
        prefix_length=options.sql_range_prefix,
        network=network.id,
        labels=gcp_labels(ctx.tags()),
        project=project_id(),
        opts=ctx.opts(),
    )
    vertex_range = compute.GlobalAddress(
        ctx.child_name("vertex-range"),
        purpose="VPC_PEERING",
        address_type="INTERNAL",
        prefix_length=options.vertex_range_prefix,
        network=network.id,
        description="Private Service Access: Vertex AI jobs",
        labels=gcp_labels(ctx.tags()),
        project=project_id(),
        opts=ctx.opts(),
    )
    peering = servicenetworking.Connection(
        ctx.child_name("psa"),
        network=network.id,
        service="servicenetworking.googleapis.com",
        reserved_peering_ranges=[sql_range.name, vertex_range.name],
        # Removing the peering while Cloud SQL still uses it fails; leave it to the network.
        deletion_policy="ABANDON",
        opts=ctx.opts(),
    )
    network_id = pulumi.Output.all(network.id, peering.id).apply(lambda ids: str(ids[0]))
    return CreatedNetwork(network_id=network_id, subnet_id=subnet.id, sql_range=sql_range.name)
