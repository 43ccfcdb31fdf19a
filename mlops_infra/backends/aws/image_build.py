"""``ImageBuild``: an image the stack builds itself with CodeBuild, at ``up``, once per tag.

The tag is a content hash of everything the image is made of, so ECR's immutable tags
hold: the same content is never built twice, new content gets a new tag. Create:

1. ``DescribeImages``: the tag exists in the repository → done, nothing is built;
2. the marker ``images/<tag>/build-id`` in the artifact store names a build still in
   progress (an ``up`` was killed while it waited) → adopted;
3. else ``StartBuild`` of the stack's CodeBuild project with the tag and the image's
   variables (``idempotencyToken`` from the tag), then the marker is written;
4. ``BatchGetBuilds`` until the build ends (progress lines, timeout); a failed build
   stops ``up`` with its phase and log link, unless the tag exists by then (a concurrent
   build of the same content pushed it first: the tag names the content).

With no tag (nothing to build yet, e.g. no model version has passed the gate) it does
nothing and ``image`` is ``None``. Delete leaves the image: ECR's lifecycle policy
expires old ones, and a running endpoint may still use it.

API reference: https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html,
API_BatchGetBuilds.html (same folder);
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.aws._api import AwsApi, error_code, progress
from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["ImageBuild", "build_image", "marker_key"]

_OUTPUTS = ("image", "build_id", "status")


def marker_key(tag: str) -> str:
    """Key, in the artifact store, of the object naming the build of ``tag``."""
    return f"images/{tag}/build-id"


def _exists(ecr: Any, repository: str, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except Exception as error:
        if error_code(error) == "ImageNotFoundException":
            return False
        raise
    return True


def _marked_build(s3: Any, bucket: str, tag: str) -> str | None:
    try:
        return s3.get_object(Bucket=bucket, Key=marker_key(tag))["Body"].read().decode()
    except Exception as error:
        if error_code(error) in ("NoSuchKey", "404"):
            return None
        raise


def _build(codebuild: Any, build_id: str) -> dict[str, Any]:
    (build,) = codebuild.batch_get_builds(ids=[build_id])["builds"]
    return dict(build)


def build_image(api: AwsApi, props: Mapping[str, Any]) -> dict[str, Any]:
    """Builds the image of ``props`` unless its tag exists; returns the outputs.

    Raises:
        RuntimeError: the build failed or was stopped.
        TimeoutError: it did not end within ``timeout_s`` (it goes on; the next ``up``
            adopts it).
    """
    base = {k: v for k, v in props.items() if not k.startswith("__")}
    tag = props.get("tag")
    if not tag:
        return {**base, "image": None, "build_id": None, "status": "nothing to build"}
    image = f"{props['repository_url']}:{tag}"
    ecr, s3 = api.client("ecr"), api.client("s3")
    codebuild = api.client("codebuild")
    if _exists(ecr, str(props["repository"]), str(tag)):
        progress(f"image {image}: exists")
        return {**base, "image": image, "build_id": None, "status": "exists"}
    build_id = _marked_build(s3, str(props["bucket"]), str(tag))
    if build_id and _build(codebuild, build_id).get("buildStatus") == "IN_PROGRESS":
        progress(f"image {image}: build {build_id} in progress, adopted")
    else:
        variables = {**dict(props.get("environment") or {}), "IMAGE_TAG": tag, "IMAGE": image}
        build_id = str(
            codebuild.start_build(
                projectName=props["project_name"],
                environmentVariablesOverride=[
                    {"name": k, "value": str(v), "type": "PLAINTEXT"}
                    for k, v in sorted(variables.items())
                ],
                idempotencyToken=f"{props['project_name']}-{tag}"[:64],
            )["build"]["id"]
        )
        s3.put_object(Bucket=props["bucket"], Key=marker_key(str(tag)), Body=build_id.encode())
        progress(f"image {image}: build {build_id} started")
    latest: dict[str, Any] = {}

    def poll() -> tuple[bool, str]:
        nonlocal latest
        latest = _build(codebuild, str(build_id))
        status = str(latest.get("buildStatus"))
        return status != "IN_PROGRESS", f"{status} ({latest.get('currentPhase')})"

    api.wait(f"image {image}", poll, float(props.get("timeout_s") or 3600))
    exists = _exists(ecr, props["repository"], tag)
    if exists and latest.get("buildStatus") != "SUCCEEDED":
        # The tag is content-addressed: a concurrent build of the same content (another
        # component, an earlier ``up``) pushed it first, and this push was refused.
        progress(f"image {image}: pushed by another build ({build_id} {latest.get('buildStatus')})")
        return {**base, "image": image, "build_id": build_id, "status": "exists"}
    if not exists:
        logs: Any = latest.get("logs") or {}
        link = str(logs.get("deepLink") or "see the CodeBuild console")
        msg = (
            f"image {image}: build {build_id} {latest.get('buildStatus')} in phase "
            f"{latest.get('currentPhase')} (logs: {link})"
        )
        raise RuntimeError(msg)
    return {**base, "image": image, "build_id": build_id, "status": "built"}


class _BuildProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = build_image(AwsApi(region=props.get("region")), props)
        return CreateResult(id_=f"{props['repository']}:{props.get('tag') or '-'}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key, value in news.items()
            if not key.startswith("__") and key not in _OUTPUTS and olds.get(key) != value
        ]  # fmt: skip
        return DiffResult(changes=bool(changed), replaces=changed)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=build_image(AwsApi(region=news.get("region")), news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        del props  # images stay: the repository's lifecycle policy expires them


class ImageBuild(Resource, module="mlops", name="ImageBuild"):
    """An image built by the stack's CodeBuild project (see the module).

    Inputs: ``project_name``, ``region``, ``repository`` (ECR name), ``repository_url``,
    ``tag`` (content hash; ``None``: nothing to build), ``environment`` (the build's
    variables), ``bucket`` (artifact store, for the build marker), ``timeout_s``.
    """

    image: pulumi.Output[str | None]
    """``<repository url>:<tag>`` once it exists; ``None`` when there is nothing to build."""

    def __init__(
        self,
        name: str,
        inputs: Mapping[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the image build ``name``."""
        props: dict[str, Any] = {**inputs, **dict.fromkeys(_OUTPUTS)}
        super().__init__(_BuildProvider(), name, props, opts)
