"""Training compute on GCP.

* ``vertex`` (default): Vertex AI provisions machines per job and releases them when
  it ends: nothing stands, nothing costs while idle. The cluster is a shape (machine
  type, accelerator, count, spot) that jobs and pipeline steps use; no resource is
  created. Warm nodes (``min_nodes > 0``) are not offered: Vertex's persistent
  resources cannot scale to zero, use the ``gke`` flavor instead.
* ``gke``: a GKE Standard cluster (private nodes, Workload Identity) with one node pool
  of the shape that autoscales from ``min_nodes`` (zero by default) to ``max_nodes``,
  spot when asked, GPU drivers installed by GKE and GPU nodes tainted. The control
  plane is billed while the cluster exists.
"""

from __future__ import annotations

import pulumi

from mlops_infra.backends.gcp._iam import service_account
from mlops_infra.backends.gcp._naming import gcp_labels, physical_name
from mlops_infra.backends.gcp._scope import current_project_id, project_id, region_of
from mlops_infra.backends.gcp.gpus import NO_VPC_PEERING
from mlops_infra.backends.gcp.options import GkeClusterOptions, VertexClusterOptions
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    ComputeRef,
    TrainingClusterArgs,
    TrainingClusterBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import TrainingClusterSpec

__all__ = ["GkeTrainingCluster", "VertexTrainingCluster", "gke_accelerator", "vertex_shape"]


def vertex_shape(
    ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec, cpu_machine_type: str
) -> tuple[str, str | None, int]:
    """Returns ``(machine type, accelerator, accelerators per node)`` of the cluster's nodes."""
    offer = node_shape(ctx.target, spec, "training")
    if offer is not None:
        return offer.instance_type, offer.accelerator, offer.count
    return spec.instance_type or cpu_machine_type, None, 0


def gke_accelerator(vertex_accelerator: str) -> str:
    """Returns GKE's name of a Vertex accelerator (``NVIDIA_TESLA_T4`` → ``nvidia-tesla-t4``)."""
    return vertex_accelerator.lower().replace("_", "-")


class VertexTrainingCluster(TrainingClusterBackend):
    """Per-job Vertex AI compute: a shape, not a standing pool."""

    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Resolves the shape; creates nothing."""
        if spec.min_nodes > 0:
            msg = (
                f"{ctx.name}: the vertex flavor provisions machines per job and keeps none "
                f"warm; got min_nodes {spec.min_nodes}; use min_nodes: 0 or flavor: gke"
            )
            raise BackendError(msg)
        options = ctx.options_as(VertexClusterOptions)
        machine_type, accelerator, count = vertex_shape(ctx, spec, options.cpu_machine_type)
        network = ctx.target.network
        if machine_type in NO_VPC_PEERING and (network.create or network.existing is not None):
            msg = (
                f"{ctx.name}: gpu {spec.gpu} runs on {machine_type}, which Vertex AI cannot "
                "peer into the stack's network (A3 Ultra/Mega custom jobs need a Private "
                "Service Connect interface); use gpu: h100 (a3-highgpu-8g), or flavor: gke "
                "for this cluster"
            )
            raise BackendError(msg)
        return ComputeRef(
            name=spec.name,
            id=f"vertex/{region_of(ctx)}/{spec.name}",
            gpu=spec.gpu,
            gpus_per_node=count,
            instance_type=machine_type,
            accelerator=accelerator,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )


class GkeTrainingCluster(TrainingClusterBackend):
    """A GKE cluster with one autoscaled node pool of the cluster's shape."""

    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Creates the cluster, its node identity and the node pool."""
        from pulumi_gcp import container, projects  # noqa: PLC0415 - only this flavor needs them

        options = ctx.options_as(GkeClusterOptions)
        region = region_of(ctx)
        machine_type, accelerator, count = vertex_shape(ctx, spec, options.cpu_machine_type)
        foundation = ctx.args.foundation
        labels = gcp_labels(ctx.tags())
        nodes = service_account(ctx, "nodes", "GKE training nodes")
        # The narrowest role GKE nodes run with: logs, metrics, image pulls.
        node_role = projects.IAMMember(
            ctx.child_name("nodes-role"),
            project=current_project_id(),
            role="roles/container.defaultNodeServiceAccount",
            member=nodes.member,
            opts=ctx.opts(),
        )
        cluster = container.Cluster(
            ctx.child_name(),
            name=physical_name(ctx.name, max_length=40, salt=ctx.stack_name),
            location=region,
            project=project_id(),
            network=foundation.network_id if foundation else None,
            subnetwork=(
                pulumi.Output.from_input(foundation.private_subnet_ids).apply(
                    lambda ids: ids[0] if ids else None
                )
                if foundation and foundation.private_subnet_ids
                else None
            ),
            # Node pools are managed separately; the default one is removed at once.
            remove_default_node_pool=True,
            initial_node_count=1,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=container.ClusterIpAllocationPolicyArgs(),
            private_cluster_config=container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True, enable_private_endpoint=False
            ),
            workload_identity_config=container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=current_project_id().apply(lambda p: f"{p}.svc.id.goog")
            ),
            release_channel=container.ClusterReleaseChannelArgs(channel=options.release_channel),
            deletion_protection=ctx.target.protects_stateful,
            resource_labels=labels,
            opts=ctx.opts(),
        )
        taints = (
            [
                container.NodePoolNodeConfigTaintArgs(
                    key="nvidia.com/gpu", value="present", effect="NO_SCHEDULE"
                )
            ]
            if accelerator
            else None
        )
        accelerators = (
            [
                container.NodePoolNodeConfigGuestAcceleratorArgs(
                    type=gke_accelerator(accelerator),
                    count=count,
                    gpu_driver_installation_config=(
                        container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                            gpu_driver_version="LATEST"
                        )
                    ),
                )
            ]
            if accelerator
            else None
        )
        pool = container.NodePool(
            ctx.child_name("pool"),
            cluster=cluster.id,
            location=region,
            project=project_id(),
            initial_node_count=spec.min_nodes,
            autoscaling=container.NodePoolAutoscalingArgs(
                total_min_node_count=spec.min_nodes,
                total_max_node_count=spec.max_nodes,
                location_policy="ANY",
            ),
            management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=container.NodePoolNodeConfigArgs(
                machine_type=machine_type,
                guest_accelerators=accelerators,
                spot=spec.spot,
                disk_size_gb=spec.disk_gib,
                disk_type=options.boot_disk_type,
                service_account=nodes.email,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                workload_metadata_config=container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                shielded_instance_config=container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                taints=taints,
                resource_labels=labels,
                labels={"mlops-cluster": spec.name},
            ),
            # The autoscaler owns the node count.
            opts=ctx.opts(ignore_changes=["initialNodeCount"], depends_on=[node_role]),
        )
        return ComputeRef(
            name=spec.name,
            id=pool.id,
            gpu=spec.gpu,
            gpus_per_node=count,
            instance_type=machine_type,
            accelerator=accelerator,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )
