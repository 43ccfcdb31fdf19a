"""Images a component builds from a build context, with Cloud Build, at ``up``.

:func:`context_image` declares, for an :class:`~mlops_infra.images.ImageSource`:

* ``<name>-<kind>-context``: its archive, uploaded once to ``images/<tag>/context.tar.gz``
  in the artifact bucket (kept when the component moves to a new tag: another component
  may build from the same content);
* ``<name>-builder-sa``: the build's own service account, allowed to read the bucket
  (``<name>-builder-store``), push to the stack's repository only
  (``<name>-builder-push``, Artifact Registry writer on that repository) and write its
  build logs (``<name>-builder-logs``);
* ``<name>-<kind>-image``: :class:`~mlops_infra.backends.gcp.image_build.CloudBuildImage`,
  pushing ``<registry>/<kind>:<tag>``.

The deployer needs ``cloudbuild.builds.create``/``get``/``list`` and may act as the
builder account (``iam.serviceAccounts.actAs``).
"""

from __future__ import annotations

import pulumi
from pulumi_gcp import artifactregistry, projects, serviceaccount, storage

from mlops_infra.backends.gcp._iam import OBJECT_VIEWER, bucket_member, bucket_name, service_account
from mlops_infra.backends.gcp._naming import fmt
from mlops_infra.backends.gcp._scope import AnyContext, current_project_id, region_of
from mlops_infra.backends.gcp.image_build import CloudBuildImage
from mlops_infra.images import BuiltImage, ImageSource, stack_registry
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import FoundationRef

resolve_sdk_names_on_demand()

__all__ = ["DOCKER", "IMAGES_PREFIX", "builder_identity", "context_image"]

DOCKER = "gcr.io/cloud-builders/docker"
"""Cloud Build's Docker builder image."""

IMAGES_PREFIX = "images/"
"""Bucket prefix of build contexts (``images/<tag>/context.tar.gz``)."""


def _repository(registry_url: str) -> tuple[str, str]:
    """``<location>-docker.pkg.dev/<project>/<repository>`` → ``(location, repository)``.

    Empty while the URL is unknown (an offline plan does not compute it).
    """
    if not registry_url:
        return "", ""
    host, _project, repository = registry_url.split("/", 2)
    return host.removesuffix("-docker.pkg.dev"), repository


def builder_identity(
    ctx: AnyContext, store_uri: pulumi.Input[str], registry: pulumi.Output[str], *, what: str
) -> tuple[serviceaccount.Account, list[pulumi.Resource]]:
    """``<name>-builder-sa`` and its grants (see the module).

    It reads the bucket, pushes to the stack's repository only and writes its build logs.
    """
    account = service_account(ctx, "builder", f"builds {what}")
    grants: list[pulumi.Resource] = [
        bucket_member(ctx, "builder-store", store_uri, account, OBJECT_VIEWER),
        artifactregistry.RepositoryIamMember(
            ctx.child_name("builder-push"),
            location=registry.apply(lambda u: _repository(u)[0]),
            repository=registry.apply(lambda u: _repository(u)[1]),
            role="roles/artifactregistry.writer",
            member=account.member,
            opts=ctx.opts(),
        ),
        projects.IAMMember(
            ctx.child_name("builder-logs"),
            project=current_project_id(),
            role="roles/logging.logWriter",
            member=account.member,
            opts=ctx.opts(),
        ),
    ]
    return account, grants


def context_image(
    ctx: AnyContext,
    foundation: FoundationRef | None,
    store_uri: pulumi.Input[str],
    source: ImageSource,
    *,
    what: str,
    instead: str,
) -> BuiltImage:
    """Declares the upload of ``source``, the builder identity and the build (see the module).

    Raises:
        BackendError: the stack has no registry to push to (``instead`` says what to set).
    """
    registry = stack_registry(ctx.name, foundation, what, instead)
    bucket = bucket_name(store_uri)
    context_object = f"{IMAGES_PREFIX}{source.tag}/context.tar.gz"
    upload = storage.BucketObject(
        ctx.child_name(f"{source.kind}-context"),
        bucket=bucket,
        name=context_object,
        source=pulumi.FileAsset(str(source.archive(ctx.target.project_dir / ".mlops" / "images"))),
        content_type="application/gzip",
        # Content-addressed: another component may build from the same object.
        opts=pulumi.ResourceOptions.merge(
            ctx.opts(), pulumi.ResourceOptions(retain_on_delete=True)
        ),
    )
    account, grants = builder_identity(ctx, store_uri, registry, what=what)
    image = fmt("{}/{}:{}", registry, source.kind, source.tag)
    build = CloudBuildImage(
        ctx.child_name(f"{source.kind}-image"),
        {
            "project": current_project_id(),
            "region": region_of(ctx),
            "registry_url": registry,
            "image_name": source.kind,
            "tag": source.tag,
            "steps": [
                {
                    "name": DOCKER,
                    "args": [
                        "build",
                        "--tag",
                        fmt("{}/{}:{}", registry, source.kind, source.tag),
                        ".",
                    ],
                }
            ],
            "bucket": bucket,
            "context_object": context_object,
            "service_account": account.email,
            "timeout_s": 3600,
        },
        ctx.opts(
            depends_on=[upload, *grants],
            custom_timeouts=pulumi.CustomTimeouts(create="70m", update="70m"),
        ),
    )
    return BuiltImage(image=image, resources=[build])
