"""Cloud Run revision names for a canary split, remembered across ``pulumi up`` runs.

A traffic split names revisions, and the revision that served before is only known
from earlier runs. :class:`RevisionPlan` keeps it in its state: each change of the
service template gets a new revision name (``<service>-<serial>``); when the served
model version changes, the revision that served the previous version becomes the
stable one that keeps the traffic the canary does not get.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi_gcp import cloudrunv2

__all__ = ["RevisionPlan", "plan_revision", "traffic_split"]

_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def plan_revision(olds: dict[str, Any] | None, news: dict[str, Any]) -> tuple[int, str, str | None]:
    """Returns ``(serial, revision, stable revision)`` after a change from ``olds`` to ``news``.

    Pure: ``create`` (``olds`` is ``None``) and ``update`` of the provider call it.
    """
    service = str(news["service"])
    if olds is None:
        return 1, f"{service}-{1:05d}", None
    serial = int(olds.get("serial") or 1)
    revision = str(olds.get("revision") or f"{service}-{serial:05d}")
    if olds.get("digest") != news.get("digest"):
        serial += 1
        revision = f"{service}-{serial:05d}"
    stable: str | None = olds.get("stable_revision")
    if olds.get("version") != news.get("version"):
        # A new model version: what served the previous one keeps the rest of the traffic.
        stable = str(olds["revision"]) if olds.get("version") and olds.get("revision") else None
    return serial, revision, stable


class _PlanProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        serial, revision, stable = plan_revision(None, props)
        outs = {**_plain(props), "serial": serial, "revision": revision, "stable_revision": stable}
        return CreateResult(id_=f"revisions-{props['service']}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("service", "digest", "version") if olds.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(changed), replaces=["service"] if "service" in changed else []
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        serial, revision, stable = plan_revision(olds, news)
        return UpdateResult(
            outs={**_plain(news), "serial": serial, "revision": revision, "stable_revision": stable}
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, _plain(props))


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


class RevisionPlan(Resource, module="mlops", name="GcpRevisionPlan"):
    """The next revision name of a Cloud Run service and the stable one before it."""

    revision: pulumi.Output[str]
    """Name for the service template's revision."""

    stable_revision: pulumi.Output[str | None]
    """Revision that served the previous model version, if any."""

    def __init__(
        self,
        name: str,
        *,
        service: str,
        digest: pulumi.Input[str],
        version: pulumi.Input[str | None],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the plan ``name`` of ``service`` for the template ``digest``."""
        props = {
            "service": service,
            "digest": digest,
            "version": version,
            "serial": None,
            "revision": None,
            "stable_revision": None,
        }
        super().__init__(_PlanProvider(), name, props, opts)


def traffic_split(
    revision: str | None, stable: str | None, canary_percent: int | None
) -> list[cloudrunv2.ServiceTrafficArgs]:
    """Returns the service's traffic: ``canary_percent`` to ``revision``, the rest to ``stable``.

    Without a canary, or before there is a stable revision, all traffic goes to the latest.
    """
    if canary_percent and revision and stable and stable != revision:
        return [
            cloudrunv2.ServiceTrafficArgs(
                type=_REVISION, revision=revision, percent=canary_percent
            ),
            cloudrunv2.ServiceTrafficArgs(
                type=_REVISION, revision=stable, percent=100 - canary_percent
            ),
        ]
    return [cloudrunv2.ServiceTrafficArgs(type=_LATEST, percent=100)]
