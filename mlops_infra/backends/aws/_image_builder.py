"""A component's CodeBuild image builder, and its builds of images from build contexts.

Every image a component builds goes through a ``<name>-builder`` CodeBuild project
(privileged, for Docker) whose role reads exactly the store prefixes the build needs,
pushes only to the stack's repository and writes only its own logs; each image is an
:class:`~mlops_infra.backends.aws.image_build.ImageBuild` (built once per tag, adopted
after a kill, waited for at ``up``).

:func:`context_image` builds an :class:`~mlops_infra.images.ImageSource`: its archive is
uploaded once to ``images/<tag>/context.tar.gz`` in the artifact store (kept when the
component moves to a new tag: another component may build from the same content), and
the builder unpacks it and runs ``docker build``.

CodeBuild Docker builds: https://docs.aws.amazon.com/codebuild/latest/userguide/sample-docker.html.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import codebuild, s3

from mlops_infra.backends.aws._iam import (
    ArgsT,
    kms_use,
    logs_write,
    s3_read,
    service_role,
    statement,
)
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws._store import StoreLocation, object_tags
from mlops_infra.backends.aws.image_build import ImageBuild
from mlops_infra.images import BuiltImage, ImageSource, stack_registry
from mlops_infra.outputs import concat
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import BuildContext, FoundationRef

resolve_sdk_names_on_demand()

__all__ = [
    "CONTEXT_BUILDSPEC",
    "IMAGES_PREFIX",
    "PYTHON_BASE_IMAGE",
    "ImageBuilder",
    "context_image",
    "image_build",
    "image_builder",
]

IMAGES_PREFIX = "images/"
"""Store prefix of build contexts (``images/<tag>/context.tar.gz``) and build markers."""

PYTHON_BASE_IMAGE = (
    f"public.ecr.aws/docker/library/python:{sys.version_info.major}.{sys.version_info.minor}-slim"
)
"""Base of the images built from contexts: Docker's official Python on ECR Public (no
Docker Hub pull limits in CodeBuild), at the deployer's Python version."""

CONTEXT_BUILDSPEC = """\
version: 0.2
phases:
  pre_build:
    commands:
      - aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE%%/*}"
      - mkdir context && aws s3 cp "${CONTEXT_URI}" - | tar -xz -C context
  build:
    commands:
      - docker build --tag "${IMAGE}" context
      - docker push "${IMAGE}"
"""
"""What a builder runs for a build context: unpack it, build, push under its tag."""

_BUILD_IMAGE = "aws/codebuild/standard:7.0"


@dataclass(frozen=True)
class ImageBuilder:
    """A component's CodeBuild project and the repository it pushes to.

    Attributes:
        project: The CodeBuild project.
        repository: ECR repository name.
        repository_url: ``<registry>/<repository>``.
        role_policy: The builder role's policy (builds start after it exists).
    """

    project: codebuild.Project
    repository: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    role_policy: pulumi.Resource


def image_builder(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    store: StoreLocation,
    registry_url: pulumi.Input[str | None],
    *,
    project_name: str,
    what: str,
    buildspec: str,
    read_prefixes: Sequence[str],
) -> ImageBuilder:
    """Declares ``<name>-builder`` (+ ``-builder-role``) building ``what`` with ``buildspec``.

    ``what`` names the images and their owner (``serving images of endpoint x``).

    ``project_name``: the CodeBuild project's name (unique in the account and region);
    ``read_prefixes``: store prefixes the build reads (build contexts, model artifacts).
    """
    name = project_name
    repository_url = pulumi.Output.from_input(registry_url).apply(lambda u: str(u or ""))
    repository = repository_url.apply(lambda u: u.partition("/")[2])
    role = service_role(
        ctx, "builder-role", "codebuild.amazonaws.com", scope,
        [
            *s3_read(store.bucket_arn, [store.key(p) for p in read_prefixes], sid="BuildInputs"),
            *kms_use(store.key_arns),
            statement(
                ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                 "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                 "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [repository.apply(lambda r: scope.arn("ecr", f"repository/{r}"))],
                sid="PushImages",
            ),
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
            *logs_write([scope.arn("logs", f"log-group:/aws/codebuild/{name}")]),
        ],
        description=f"CodeBuild: {what}",
    )  # fmt: skip
    project = codebuild.Project(
        ctx.child_name("builder"),
        name=name,
        description=f"{what} (mlops-infra)",
        service_role=role.arn,
        source=codebuild.ProjectSourceArgs(type="NO_SOURCE", buildspec=buildspec),
        artifacts=codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
        environment=codebuild.ProjectEnvironmentArgs(
            type="LINUX_CONTAINER",
            compute_type="BUILD_GENERAL1_MEDIUM",
            image=_BUILD_IMAGE,
            privileged_mode=True,
        ),
        encryption_key=store.key_arn,
        build_timeout=60,
        tags=ctx.tags(),
        opts=ctx.opts(depends_on=[role.policy]),
        region=scope.region_override,
    )
    return ImageBuilder(project, repository, repository_url, role.policy)


def image_build(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    store: StoreLocation,
    builder: ImageBuilder,
    *,
    child: str,
    tag: pulumi.Input[str | None],
    environment: Mapping[str, pulumi.Input[str | None]],
    depends_on: Sequence[pulumi.Resource] = (),
) -> ImageBuild:
    """Declares ``<name>-<child>``: the build of ``tag`` by ``builder`` (see the module)."""
    return ImageBuild(
        ctx.child_name(child),
        {
            "project_name": builder.project.name,
            "region": scope.region,
            "repository": builder.repository,
            "repository_url": builder.repository_url,
            "tag": tag,
            "environment": dict(environment),
            "bucket": store.bucket,
            "timeout_s": 3600,
        },
        ctx.opts(
            depends_on=list(depends_on),
            custom_timeouts=pulumi.CustomTimeouts(create="70m", update="70m"),
        ),
    )


def context_image(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    store: StoreLocation,
    foundation: FoundationRef | None,
    source: ImageSource,
    *,
    what: str,
    instead: str,
) -> BuiltImage:
    """Declares the upload of ``source``, a builder and the build (see the module).

    Children: ``<name>-builder`` (+ role; project ``<stack>-<name>-images``),
    ``<name>-<kind>-context`` (the archive), ``<name>-<kind>-image`` (the build).

    Raises:
        BackendError: the stack has no registry to push to (``instead`` says what to set).
    """
    registry_url = stack_registry(ctx.name, foundation, what, instead)
    key = f"{IMAGES_PREFIX}{source.tag}/context.tar.gz"
    archive = source.archive(ctx.target.project_dir / ".mlops" / "images")
    upload = s3.BucketObjectv2(
        ctx.child_name(f"{source.kind}-context"),
        bucket=store.bucket,
        key=store.key(key),
        source=pulumi.FileAsset(str(archive)),
        content_type="application/gzip",
        tags=object_tags(ctx, {"mlops-image": source.tag}),
        # Content-addressed: another component may build from the same object.
        opts=pulumi.ResourceOptions.merge(
            ctx.opts(), pulumi.ResourceOptions(retain_on_delete=True)
        ),
        region=scope.region_override,
    )
    builder = image_builder(
        ctx, scope, store, registry_url,
        project_name=physical_name(ctx.stack_name, ctx.name, "images", max_length=150),
        what=f"{what} for {ctx.name}", buildspec=CONTEXT_BUILDSPEC,
        read_prefixes=[IMAGES_PREFIX],
    )  # fmt: skip
    build = image_build(
        ctx, scope, store, builder,
        child=f"{source.kind}-image",
        tag=source.tag,
        environment={"CONTEXT_URI": store.s3_uri(key)},
        depends_on=[upload],
    )  # fmt: skip
    image = concat(builder.repository_url, ":", source.tag)
    return BuiltImage(image=image, resources=[build])
