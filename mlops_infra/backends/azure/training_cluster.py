"""Azure training cluster: an AmlCompute cluster in the stack's Azure ML workspace.

* Scales between ``min_nodes`` (0 by default: nothing is paid for idle GPUs) and
  ``max_nodes``; idle nodes are released after ``idle_timeout_s``.
* ``LowPriority`` VMs when ``spot`` (evictable; jobs checkpoint and resume).
* VM size from the GPU catalog (``gpu`` x ``gpu_count``), ``instance_type``, or the
  flavor's CPU size.
* No public IPs on nodes and SSH closed; nodes join the stack's private subnet when it has
  a network (else the workspace's managed network); local (key) auth disabled.
* System-assigned identity, granted *Storage Blob Data Contributor* on the artifact
  store's account and *AcrPull* on the stack's registry, nothing else. Jobs run with it.
  The storage grant is on the account, not the artifact container: jobs also read and
  write the containers Azure ML itself creates on the workspace's account (the default
  datastore ``azureml-blobstore-<workspace id>``, run outputs, code snapshots), whose set
  and names Azure ML owns, through identity-based data access
  (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-identity-based-service-authentication).

``disk_gib`` has no AmlCompute setting (the OS disk size follows the VM size).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native.machinelearningservices as ml

from mlops_infra.backends.azure._iam import grant
from mlops_infra.backends.azure._naming import iso_duration, short_name
from mlops_infra.backends.azure._scope import (
    azure_foundation,
    storage_account_id,
    workspace_of,
)
from mlops_infra.backends.azure.options import AzureClusterOptions
from mlops_infra.resources import (
    BuildContext,
    ComputeRef,
    TrainingClusterArgs,
    TrainingClusterBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import TrainingClusterSpec

__all__ = ["AmlComputeCluster", "compute_name"]

_MIN_IDLE_S = 60


def compute_name(cluster: str) -> str:
    """The AmlCompute name of cluster ``cluster`` (2-16 characters, unique in the workspace)."""
    return short_name(cluster, 16)


class AmlComputeCluster(TrainingClusterBackend):
    """An AmlCompute cluster that scales to zero, with a least-privilege identity."""

    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Creates the cluster and its identity's role assignments."""
        options = ctx.options_as(AzureClusterOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        workspace = workspace_of(ctx.args.tracking, foundation, ctx.name)
        offer = node_shape(ctx.target, spec, "training")
        vm_size = offer.instance_type if offer else spec.instance_type or options.cpu_vm_size
        subnet: ml.ResourceIdArgs | None = None
        if foundation.private_subnet_ids is not None:
            subnet = ml.ResourceIdArgs(
                id=pulumi.Output.from_input(foundation.private_subnet_ids).apply(
                    lambda ids: ids[0] if ids else ""
                )
            )
        compute = ml.Compute(
            ctx.child_name(),
            resource_group_name=workspace.resource_group_name,
            workspace_name=workspace.name,
            compute_name=compute_name(spec.name),
            location=foundation.location,
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            ),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                description=f"mlops-infra cluster {spec.name} of stack {ctx.stack_name}",
                disable_local_auth=True,
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=vm_size,
                    vm_priority=ml.VmPriority.LOW_PRIORITY
                    if spec.spot
                    else ml.VmPriority.DEDICATED,
                    os_type=ml.OsType.LINUX,
                    scale_settings=ml.ScaleSettingsArgs(
                        min_node_count=spec.min_nodes,
                        max_node_count=spec.max_nodes,
                        # AmlCompute counts idle time in whole minutes, one at least.
                        node_idle_time_before_scale_down=iso_duration(
                            max(spec.idle_timeout_s, _MIN_IDLE_S)
                        ),
                    ),
                    # The SDK defaults this to True: nodes would get public IPs.
                    enable_node_public_ip=False,
                    remote_login_port_public_access=ml.RemoteLoginPortPublicAccess.DISABLED,
                    subnet=subnet,
                ),
            ),
            tags=ctx.tags({"mlops-cluster": spec.name}),
            # A cluster's virtual network settings are fixed at creation, so a new subnet (a
            # network added or removed) replaces it; its name stays, so the old cluster goes
            # first (it holds nothing: it scales to zero).
            # https://learn.microsoft.com/en-us/azure/machine-learning/how-to-secure-training-vnet
            opts=ctx.opts(
                replace_on_changes=["properties.properties.subnet"], delete_before_replace=True
            ),
        )
        principal = compute.identity.apply(lambda i: i.principal_id if i else "")
        grants: list[pulumi.CustomResource] = []
        if ctx.args.store is not None:
            grants.append(
                grant(
                    ctx,
                    "store-access",
                    role="Storage Blob Data Contributor",
                    principal_id=principal,
                    scope=storage_account_id(foundation, ctx.args.store.uri),
                    subscription_id=foundation.subscription_id,
                )
            )
        if foundation.registry_id is not None:
            grants.append(
                grant(
                    ctx,
                    "registry-pull",
                    role="AcrPull",
                    principal_id=principal,
                    scope=pulumi.Output.from_input(foundation.registry_id).apply(lambda i: i or ""),
                    subscription_id=foundation.subscription_id,
                )
            )
        # Jobs and pipeline steps name the cluster by this id: it resolves only once the
        # identity's grants exist, so a first run never starts without its permissions.
        ready_id = pulumi.Output.all(compute.id, *(g.id for g in grants)).apply(
            lambda parts: str(parts[0])
        )
        return ComputeRef(
            name=spec.name,
            id=ready_id,
            gpu=spec.gpu,
            gpus_per_node=spec.gpu_count if spec.gpu else 0,
            instance_type=vm_size,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )
