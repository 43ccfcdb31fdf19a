"""AWS foundation: the stack's KMS key, its ECR repository, and its network (when asked).

* KMS key (rotating) for secrets, registry images, databases and volumes, unless
  ``secrets.encryption_key`` names one.
* ECR repository (``registry.create``): immutable tags, scan on push, KMS-encrypted,
  lifecycle keeping ``keep_images`` untagged images.
* VPC: created (``network.create``: private subnets, VPC endpoints, no internet route) or
  adopted (``network.existing``: its subnets, plus a workloads security group); otherwise
  none, and workloads use SageMaker's managed network.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi
from pulumi_aws import ecr, kms

from mlops_infra.backends.aws._iam import ArgsT
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.outputs import concat
from mlops_infra.resources import BuildContext, FoundationArgs, FoundationBackend, FoundationRef

if TYPE_CHECKING:
    from mlops_infra.backends.aws._network import Network

__all__ = ["AwsFoundation", "create_key", "ecr_lifecycle_policy", "key_policy"]


def create_key(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    role: str | None,
    description: str,
    *,
    deletion_window_days: int = 30,
) -> kms.Key:
    """A symmetric customer-managed key with yearly rotation, and its alias.

    Stateful: data it encrypts is unreadable without it, so it is protected in production
    and scheduled for deletion (not deleted) when destroyed.
    """
    key = kms.Key(
        ctx.child_name(role),
        description=description,
        policy=key_policy(scope),
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        tags=ctx.tags(),
        opts=ctx.opts(stateful=True),
        region=scope.region_override,
    )
    alias = physical_name("mlops", ctx.stack_name, ctx.name, role or "", max_length=200)
    kms.Alias(
        ctx.child_name(f"{role}-alias" if role else "alias"),
        name=f"alias/{alias}",
        target_key_id=key.key_id,
        opts=ctx.opts(),
        region=scope.region_override,
    )
    return key


def key_policy(scope: AwsScope) -> pulumi.Output[str]:
    """The stack keys' policy: IAM decides who uses a key; CloudWatch Logs may, for logs.

    The first statement is the default key policy (IAM policies decide who uses the key,
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html); the
    second lets the regional CloudWatch Logs service encrypt log groups, bounded by the
    ``aws:logs:arn`` encryption context
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
    """
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": scope.arn("iam", "root", regional=False)},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": concat("logs.", scope.region, ".amazonaws.com")},
                    "Action": [
                        "kms:Decrypt*",
                        "kms:Describe*",
                        "kms:Encrypt*",
                        "kms:GenerateDataKey*",
                        "kms:ReEncrypt*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": scope.arn("logs", "log-group:*")
                        }
                    },
                },
            ],
        }
    )


def ecr_lifecycle_policy(keep_images: int) -> str:
    """Keeps the newest ``keep_images`` untagged images; tagged (released) images stay."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep_images} untagged images",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )


class AwsFoundation(FoundationBackend):
    """Creates the stack's key, registry and network, as the target asks."""

    def create(self, ctx: BuildContext[FoundationArgs]) -> FoundationRef:
        """Creates the shared infrastructure and returns plain references to it."""
        target = ctx.target
        scope = AwsScope.current(target.region, ctx.component)
        given_key = target.secrets.encryption_key
        key_arn: pulumi.Input[str] = (
            given_key
            if given_key
            else create_key(ctx, scope, "key", f"mlops-infra {ctx.stack_name}: secrets, images").arn
        )
        registry_url: pulumi.Input[str] | None = None
        settings = target.container_registry
        if settings.create:
            repository = ecr.Repository(
                ctx.child_name("registry"),
                name=physical_name(ctx.stack_name, ctx.name, max_length=200),
                image_tag_mutability="IMMUTABLE" if settings.immutable_tags else "MUTABLE",
                image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=settings.scan_on_push
                ),
                encryption_configurations=[
                    ecr.RepositoryEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=key_arn
                    )
                ],
                # Outside production a destroy may remove the images with the repository.
                force_delete=not target.protects_stateful,
                tags=ctx.tags(),
                opts=ctx.opts(stateful=True),
                region=scope.region_override,
            )
            ecr.LifecyclePolicy(
                ctx.child_name("registry-lifecycle"),
                repository=repository.name,
                policy=ecr_lifecycle_policy(settings.keep_images),
                opts=ctx.opts(),
                region=scope.region_override,
            )
            registry_url = repository.repository_url
        network = self._network(ctx, scope, key_arn)
        return FoundationRef(
            network_id=network.vpc_id if network else None,
            private_subnet_ids=network.subnet_ids if network else None,
            security_group_ids=pulumi.Output.all(network.security_group_id) if network else None,
            registry_url=registry_url,
            encryption_key=key_arn,
        )

    @staticmethod
    def _network(
        ctx: BuildContext[FoundationArgs], scope: AwsScope, key_arn: pulumi.Input[str]
    ) -> Network | None:
        spec = ctx.target.network
        existing = spec.existing
        if not spec.create and existing is None:
            return None
        # pulumi_aws.ec2 costs ~0.4 s to import: only stacks with a network pay it.
        from mlops_infra.backends.aws._network import (  # noqa: PLC0415
            Network,
            create_network,
            workload_group,
        )

        if spec.create:
            return create_network(ctx, scope, spec, ctx.args.uses, key_arn)
        if existing is None:
            return None
        group = workload_group(ctx, scope, existing.id, None)
        return Network(
            vpc_id=existing.id,
            subnet_ids=list(existing.private_subnet_ids),
            security_group_id=group.id,
        )
