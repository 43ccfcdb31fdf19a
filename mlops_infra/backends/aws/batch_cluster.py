"""A standing AWS Batch GPU pool that scales to zero vCPUs when no job is queued.

Children of the ``TrainingCluster`` component ``<name>``:

* ``<name>-instance-role`` (+ policy) and ``<name>-instance-profile``: what the GPU hosts
  (ECS agent) may do: join their own Batch cluster, pull the stack's images, write logs.
* ``<name>-hosts`` launch template: IMDSv2 only, encrypted gp3 root volume of ``disk_gib``.
* ``<name>`` ``batch.ComputeEnvironment``: managed, EC2 or SPOT, ``min_nodes`` x vCPUs
  (zero by default) to ``max_nodes`` x vCPUs, ECS GPU AMI, private subnets only.
* ``<name>-queue`` ``batch.JobQueue``: the id jobs are submitted to.
"""

from __future__ import annotations

from pulumi_aws import batch, ec2, iam

from mlops_infra.backends.aws._iam import (
    ecr_pull,
    ecr_repository_arn,
    logs_write,
    service_role,
    statement,
)
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope, network_of, registry_image
from mlops_infra.backends.aws.options import BatchClusterOptions
from mlops_infra.errors import BackendError
from mlops_infra.outputs import concat
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import (
    BuildContext,
    ComputeRef,
    TrainingClusterArgs,
    TrainingClusterBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import TrainingClusterSpec

resolve_sdk_names_on_demand()

__all__ = ["BATCH_LOG_GROUP", "EC2_SHAPES", "EC2_VCPUS", "BatchGpuPool", "ec2_instance_type"]

BATCH_LOG_GROUP = "/aws/batch/job"
"""Log group AWS Batch writes job logs to by default."""

EC2_SHAPES: dict[str, tuple[int, int]] = {
    "g4dn.xlarge": (4, 16), "g4dn.12xlarge": (48, 192),
    "g5.xlarge": (4, 16), "g5.12xlarge": (48, 192), "g5.48xlarge": (192, 768),
    "g6.xlarge": (4, 16), "g6.12xlarge": (48, 192), "g6.48xlarge": (192, 768),
    "g6e.xlarge": (4, 32), "g6e.12xlarge": (48, 384), "g6e.48xlarge": (192, 1536),
    "p3.2xlarge": (8, 61), "p3.8xlarge": (32, 244), "p3.16xlarge": (64, 488),
    "p4d.24xlarge": (96, 1152), "p4de.24xlarge": (96, 1152),
    "p5.48xlarge": (192, 2048), "p5e.48xlarge": (192, 2048),
    "m5.xlarge": (4, 16), "m5.2xlarge": (8, 32), "c5.2xlarge": (8, 16),
}  # fmt: skip
"""``(vCPUs, memory GiB)`` of the EC2 types the GPU catalog resolves to (Batch sizes pools
in vCPUs and jobs in vCPUs and MiB)."""

EC2_VCPUS: dict[str, int] = {name: shape[0] for name, shape in EC2_SHAPES.items()}
"""vCPUs per EC2 type."""

_CPU_TYPE = "m5.xlarge"


def ec2_instance_type(instance_type: str) -> str:
    """The EC2 type behind a SageMaker type (``ml.g5.xlarge`` → ``g5.xlarge``)."""
    return instance_type.removeprefix("ml.")


class BatchGpuPool(TrainingClusterBackend):
    """A managed Batch compute environment and queue in the stack's private subnets."""

    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Creates the pool; its id is the job queue ARN."""
        options = ctx.options_as(BatchClusterOptions)
        network = network_of(ctx.args.foundation)
        if network is None:
            msg = (
                f"{ctx.name}: a Batch pool runs in the stack's private network; set "
                "network.create: true or network.existing in the stack spec"
            )
            raise BackendError(msg)
        offer = node_shape(ctx.target, spec, "training")
        instance_type = ec2_instance_type(
            offer.instance_type if offer else spec.instance_type or _CPU_TYPE
        )
        vcpus = options.vcpus_per_node or EC2_VCPUS.get(instance_type)
        if vcpus is None:
            msg = f"{ctx.name}: vCPUs of {instance_type!r} are unknown; set options.vcpus_per_node"
            raise BackendError(msg)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        region = scope.region_override
        name = physical_name(ctx.stack_name, ctx.name, max_length=100)
        registry = registry_image(ctx.args.foundation, "any")
        stack_images = [ecr_repository_arn(registry, scope)] if registry is not None else []
        cluster_arn = scope.arn("ecs", f"cluster/AWSBatch-{name}-*")
        instance_arn = scope.arn("ecs", f"container-instance/AWSBatch-{name}-*")
        hosts = service_role(
            ctx,
            "instance-role",
            "ec2.amazonaws.com",
            scope,
            [
                statement(
                    ["ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance",
                     "ecs:SubmitContainerStateChange", "ecs:SubmitTaskStateChange",
                     "ecs:SubmitAttachmentStateChanges", "ecs:UpdateContainerInstancesState"],
                    [cluster_arn],
                    sid="JoinOwnCluster",
                ),
                statement(
                    ["ecs:Poll", "ecs:StartTelemetrySession", "ecs:PutSystemLogEvents"],
                    [instance_arn, concat(instance_arn, "/*")],
                    sid="AgentSessions",
                ),
                statement(["ecs:DiscoverPollEndpoint", "ec2:DescribeTags"], ["*"], sid="Agent"),
                *ecr_pull(stack_images),
                *logs_write([scope.arn("logs", f"log-group:{BATCH_LOG_GROUP}")]),
            ],
            description=f"Batch GPU hosts of {ctx.name}",
            # EC2 does not pass aws:SourceAccount when an instance assumes its role.
            source_account_condition=False,
        )  # fmt: skip
        profile = iam.InstanceProfile(
            ctx.child_name("instance-profile"),
            role=hosts.role.name,
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
        template = ec2.LaunchTemplate(
            ctx.child_name("hosts"),
            metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=2
            ),
            block_device_mappings=[
                ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=spec.disk_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        strategy = options.allocation_strategy or (
            "SPOT_PRICE_CAPACITY_OPTIMIZED" if spec.spot else "BEST_FIT_PROGRESSIVE"
        )
        environment = batch.ComputeEnvironment(
            ctx.child_name(),
            name=name,
            type="MANAGED",
            state="ENABLED",
            compute_resources=batch.ComputeEnvironmentComputeResourcesArgs(
                type="SPOT" if spec.spot else "EC2",
                allocation_strategy=strategy,
                min_vcpus=spec.min_nodes * vcpus,
                max_vcpus=spec.max_nodes * vcpus,
                instance_types=[instance_type],
                instance_role=profile.arn,
                subnets=network.subnet_ids,
                security_group_ids=network.security_group_ids,
                launch_template=batch.ComputeEnvironmentComputeResourcesLaunchTemplateArgs(
                    launch_template_id=template.id, version="$Latest"
                ),
                ec2_configurations=[
                    batch.ComputeEnvironmentComputeResourcesEc2ConfigurationArgs(
                        image_type="ECS_AL2023_NVIDIA" if spec.gpu else "ECS_AL2023"
                    )
                ],
                tags=ctx.tags(),
            ),
            tags=ctx.tags(),
            # Batch moves desired vCPUs as jobs come and go; that is not drift.
            opts=ctx.opts(
                depends_on=[hosts.policy],
                ignore_changes=["computeResources.desiredVcpus"],
            ),
            region=region,
        )
        queue = batch.JobQueue(
            ctx.child_name("queue"),
            name=name,
            state="ENABLED",
            priority=1,
            compute_environment_orders=[
                batch.JobQueueComputeEnvironmentOrderArgs(
                    order=1, compute_environment=environment.arn
                )
            ],
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        return ComputeRef(
            name=spec.name,
            id=queue.arn,
            gpu=spec.gpu,
            gpus_per_node=spec.gpu_count if spec.gpu else 0,
            instance_type=instance_type,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )
