"""``CloudBuildImage``: an image the stack builds itself with Cloud Build, at ``up``, once per tag.

The tag is a content hash of everything the image is made of, so the same content is
never built twice and a new content gets a new tag. Create:

1. the tag exists in the stack's Artifact Registry (``…/packages/<image>/tags/<tag>``)
   → done, nothing is built;
2. a build of the stack carrying the tag as a Cloud Build *build tag* is queued or
   working (an ``up`` was killed while it waited) → adopted;
3. else ``builds.create``: the given steps (``docker build`` of a build context in the
   artifact store, ``storageSource``; or MLflow's ``generate-dockerfile`` of a model, then
   ``docker build``) and the push of ``<registry>/<image>:<tag>``, run as the component's
   builder service account with logs in Cloud Logging;
4. ``builds.get`` until the build ends (progress lines, timeout); a failed build stops
   ``up`` with its status, detail and log URL, unless the tag exists by then (a
   concurrent build of the same content pushed it first).

With no tag (nothing to build) it does nothing and ``image`` is ``None``. Delete leaves
the image: the registry's cleanup policy expires old ones, and a service may still run it.

REST reference:
https://cloud.google.com/build/docs/api/reference/rest/v1/projects.locations.builds/create,
https://cloud.google.com/build/docs/api/reference/rest/v1/projects.locations.builds/get,
https://cloud.google.com/build/docs/api/reference/rest/v1/projects.locations.builds/list
(``filter``: https://cloud.google.com/build/docs/view-build-results#filtering_build_results_using_queries),
https://cloud.google.com/artifact-registry/docs/reference/rest/v1/projects.locations.repositories.packages.tags/get;
a user-specified service account needs a logging choice:
https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.gcp._api import RestError, call, progress
from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["BUILD_API", "REGISTRY_API", "CloudBuildImage", "build_image", "build_request"]

BUILD_API = "https://cloudbuild.googleapis.com/v1"
"""Cloud Build API root."""

REGISTRY_API = "https://artifactregistry.googleapis.com/v1"
"""Artifact Registry API root."""

_OUTPUTS = ("image", "build_id", "status")
_RUNNING = ("QUEUED", "PENDING", "WORKING")
_POLL_S = 15.0


def _repository_path(registry_url: str) -> tuple[str, str, str]:
    """``<location>-docker.pkg.dev/<project>/<repository>`` → its three parts."""
    host, project, repository = registry_url.split("/", 2)
    return host.removesuffix("-docker.pkg.dev"), project, repository


def _exists(props: Mapping[str, Any]) -> bool:
    location, project, repository = _repository_path(str(props["registry_url"]))
    url = (
        f"{REGISTRY_API}/projects/{project}/locations/{location}/repositories/{repository}"
        f"/packages/{props['image_name']}/tags/{props['tag']}"
    )
    try:
        call("GET", url)
    except RestError as error:
        if error.status == 404:
            return False
        raise
    return True


def build_request(props: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Build`` of ``props``: its steps (and build context), the image, tags, identity."""
    image = f"{props['registry_url']}/{props['image_name']}:{props['tag']}"
    request: dict[str, Any] = {
        "steps": [dict(step) for step in props["steps"]],
        "images": [image],
        "tags": ["mlops-infra", str(props["tag"])],
        "serviceAccount": (
            f"projects/{props['project']}/serviceAccounts/{props['service_account']}"
        ),
        "options": {"logging": "CLOUD_LOGGING_ONLY"},
        "timeout": f"{int(props.get('timeout_s') or 3600)}s",
    }
    if props.get("context_object"):
        request["source"] = {
            "storageSource": {"bucket": props["bucket"], "object": props["context_object"]}
        }
    return request


def _builds(props: Mapping[str, Any]) -> str:
    return f"{BUILD_API}/projects/{props['project']}/locations/{props['region']}/builds"


def _running_build(props: Mapping[str, Any]) -> str | None:
    answer = call("GET", _builds(props), params={"filter": f'tags="{props["tag"]}"'})
    builds: list[dict[str, Any]] = answer.get("builds") or []
    for build in builds:
        if build.get("status") in _RUNNING:
            return str(build["id"])
    return None


def build_image(
    props: Mapping[str, Any], *, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Builds the image of ``props`` unless its tag exists; returns the outputs.

    Raises:
        RestError: the build failed, or did not end within ``timeout_s`` (it goes on; the
            next ``up`` adopts it).
    """
    base = {k: v for k, v in props.items() if not k.startswith("__")}
    tag = props.get("tag")
    if not tag:
        return {**base, "image": None, "build_id": None, "status": "nothing to build"}
    image = f"{props['registry_url']}/{props['image_name']}:{tag}"
    if _exists(props):
        progress(f"image {image}: exists")
        return {**base, "image": image, "build_id": None, "status": "exists"}
    build_id = _running_build(props)
    if build_id:
        progress(f"image {image}: build {build_id} in progress, adopted")
    else:
        operation = call("POST", _builds(props), build_request(props))
        build_id = str(operation["metadata"]["build"]["id"])
        progress(f"image {image}: build {build_id} started")
    timeout_s = float(props.get("timeout_s") or 3600)
    deadline = time.monotonic() + timeout_s
    while True:
        build = call("GET", f"{_builds(props)}/{build_id}")
        status = str(build.get("status"))
        if status not in _RUNNING:
            break
        if time.monotonic() > deadline:
            msg = f"image {image}: build {build_id} still {status} after {timeout_s:.0f}s"
            raise RestError(msg, 504)
        progress(f"image {image}: build {build_id} {status}")
        sleep(_POLL_S)
    if status == "SUCCESS" or _exists(props):
        return {**base, "image": image, "build_id": build_id,
                "status": "built" if status == "SUCCESS" else "exists"}  # fmt: skip
    msg = (
        f"image {image}: build {build_id} {status}: {build.get('statusDetail', '')} "
        f"(logs: {build.get('logUrl', 'see Cloud Build in the console')})"
    )
    raise RestError(msg, 409)


class _BuildProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = build_image(props)
        return CreateResult(id_=f"{props['image_name']}:{props.get('tag') or '-'}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key, value in news.items()
            if not key.startswith("__") and key not in _OUTPUTS and olds.get(key) != value
        ]  # fmt: skip
        return DiffResult(changes=bool(changed), replaces=changed)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=build_image(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        del props  # images stay: the registry's cleanup policy expires them


class CloudBuildImage(Resource, module="mlops", name="CloudBuildImage"):
    """An image built by Cloud Build from a build context in the store (see the module).

    Inputs: ``project``, ``region``, ``registry_url`` (``<loc>-docker.pkg.dev/<p>/<repo>``),
    ``image_name``, ``tag`` (content hash; ``None``: nothing to build), ``steps`` (Cloud
    Build ``BuildStep`` objects), ``bucket`` and ``context_object`` (a ``.tar.gz`` build
    context, optional), ``service_account`` (the builder's email), ``timeout_s``.
    """

    image: pulumi.Output[str | None]
    """``<registry>/<image_name>:<tag>`` once it exists; ``None`` when nothing is built."""

    def __init__(
        self,
        name: str,
        inputs: Mapping[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the image build ``name``."""
        props: dict[str, Any] = {**inputs, **dict.fromkeys(_OUTPUTS)}
        super().__init__(_BuildProvider(), name, props, opts)
