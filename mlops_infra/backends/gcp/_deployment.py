"""The serving Cloud Run service, deployed at ``pulumi up`` only once a model version passed.

Pulumi cannot declare a resource conditionally on an output (the gate's decision), and a
native ``cloudrunv2.Service`` needs a runnable image and model from its first ``up``. So
:class:`CloudRunDeployment` is a dynamic resource that calls the Cloud Run Admin API v2:

* no version to serve: nothing is created (``deployed_version`` and ``uri`` are ``None``);
  a service deployed earlier is deleted (nothing has passed any more, e.g. a cleared pin);
* a version: the service is created (``services.create``) or its template replaced
  (``services.patch``) with a revision named ``<service>-<serial>``, the operation is
  waited for, and the service is read back: ``deployed_version`` is set only when the
  new revision is the latest ready one. A revision that fails to start fails ``up``;
  Cloud Run keeps its traffic on the revision that served before, and the alias (which
  depends on this resource) does not move.

A new serial is taken whenever anything in the template changes (the digest covers the
whole template, labels and environment included), so a changed template never re-sends
an existing revision name (answered with 409). ``canary_percent`` splits traffic between
the new revision and the one that served the previous model version.

REST reference:
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/create
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/patch
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/get
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/delete
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.gcp._revisions import plan_revision, traffic_targets
from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["API", "CloudRunDeployment", "deployment_digest"]

API = "https://run.googleapis.com/v2"
"""Cloud Run Admin API v2 root."""

_INPUTS = ("project", "region", "service", "template", "version", "canary_percent")
_OPERATION_TIMEOUT_S = 1800.0
_POLL_S = 5.0


def deployment_digest(props: Mapping[str, Any]) -> str:
    """Returns the digest of everything that makes a new revision: the whole service body."""
    content = {"template": props.get("template"), "version": props.get("version")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _service_name(props: Mapping[str, Any]) -> str:
    return f"projects/{props['project']}/locations/{props['region']}/services/{props['service']}"


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


def _get(name: str) -> dict[str, Any] | None:
    from mlops_infra.backends.gcp._api import RestError, call  # noqa: PLC0415 - provider side

    try:
        return call("GET", f"{API}/{name}")
    except RestError as error:
        if error.status == 404:
            return None
        raise


def _undeploy(name: str) -> None:
    from mlops_infra.backends.gcp._api import RestError, call, wait_operation  # noqa: PLC0415

    try:
        operation = call("DELETE", f"{API}/{name}")
    except RestError as error:
        if error.status == 404:
            return
        raise
    wait_operation(
        API, operation, what=f"delete {name}", timeout_s=_OPERATION_TIMEOUT_S, poll_s=_POLL_S
    )


def _deploy(olds: Mapping[str, Any] | None, news: Mapping[str, Any]) -> dict[str, Any]:
    """Deploys (or removes) the service as ``news`` asks; returns the resource's outputs."""
    from mlops_infra.backends.gcp._api import call, progress, wait_operation  # noqa: PLC0415

    name = _service_name(news)
    outs = {**_plain(news), "digest": deployment_digest(news)}
    version = news.get("version")
    if not version:
        if olds and olds.get("revision"):
            progress(f"{name}: no model version to serve; deleting the service")
            _undeploy(name)
        return {**outs, "serial": None, "revision": None, "stable_revision": None,
                "deployed_version": None, "uri": None}  # fmt: skip
    served_before = olds if olds and olds.get("deployed_version") else None
    planned = {"service": news["service"], "digest": outs["digest"], "version": version}
    previous = (
        {
            "serial": served_before.get("serial"),
            "revision": served_before.get("revision"),
            "digest": served_before.get("digest"),
            "version": served_before.get("deployed_version"),
            "stable_revision": served_before.get("stable_revision"),
        }
        if served_before
        else None
    )
    serial, revision, stable = plan_revision(previous, planned)
    body: dict[str, Any] = json.loads(json.dumps(news["template"]))
    body["template"]["revision"] = revision
    body["traffic"] = traffic_targets(revision, stable, news.get("canary_percent"))
    existing = _get(name)
    if existing is None:
        progress(f"{name}: creating with revision {revision} (model version {version})")
        operation = call(
            "POST",
            f"{API}/projects/{news['project']}/locations/{news['region']}/services",
            body,
            params={"serviceId": str(news["service"])},
        )
    else:
        progress(f"{name}: deploying revision {revision} (model version {version})")
        operation = call("PATCH", f"{API}/{name}", body)
    wait_operation(
        API, operation, what=f"deploy {revision}", timeout_s=_OPERATION_TIMEOUT_S, poll_s=_POLL_S
    )
    service = _get(name) or {}
    ready = str(service.get("latestReadyRevision") or "").rsplit("/", 1)[-1]
    if ready != revision:
        msg = (
            f"{name}: revision {revision} (model version {version}) is not ready "
            f"(latest ready: {ready or 'none'}); traffic stays where it was"
        )
        raise RuntimeError(msg)
    return {
        **outs,
        "serial": serial,
        "revision": revision,
        "stable_revision": stable,
        "deployed_version": str(version),
        "uri": service.get("uri"),
    }


class _DeploymentProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=_service_name(props), outs=_deploy(None, props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in _INPUTS if olds.get(k) != news.get(k)]
        replaces = [k for k in ("project", "region", "service") if k in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_deploy(olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        service = _get(id_)
        outs = _plain(props)
        if service is None:
            # Nothing deployed (pending), or deleted outside Pulumi: the next up deploys again.
            outs.update(deployed_version=None, uri=None)
            return ReadResult(id_, outs)
        ready = str(service.get("latestReadyRevision") or "").rsplit("/", 1)[-1]
        if ready != outs.get("revision"):
            outs["deployed_version"] = None
        outs["uri"] = service.get("uri")
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        del props
        _undeploy(id_)


class CloudRunDeployment(Resource, module="mlops", name="GcpCloudRunDeployment"):
    """A Cloud Run service serving one model version, or nothing while none has passed."""

    deployed_version: pulumi.Output[str | None]
    """Model version the service's latest ready revision serves (``None``: nothing)."""

    uri: pulumi.Output[str | None]
    """The service's URL (``None`` while nothing is deployed)."""

    revision: pulumi.Output[str | None]
    """Name of the revision serving ``deployed_version``."""

    stable_revision: pulumi.Output[str | None]
    """Revision that served the previous model version (keeps the canary's remainder)."""

    def __init__(
        self,
        name: str,
        *,
        project: pulumi.Input[str],
        region: str,
        service: str,
        template: pulumi.Input[Mapping[str, Any]],
        version: pulumi.Input[str | None],
        canary_percent: int | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the deployment ``name`` of ``service`` with the REST body ``template``.

        ``template`` is the Cloud Run v2 ``Service`` body without ``template.revision`` and
        ``traffic``, which the deployment sets.
        """
        props = {
            "project": project,
            "region": region,
            "service": service,
            "template": template,
            "version": version,
            "canary_percent": canary_percent,
            "digest": None,
            "serial": None,
            "revision": None,
            "stable_revision": None,
            "deployed_version": None,
            "uri": None,
        }
        super().__init__(_DeploymentProvider(), name, props, opts)
