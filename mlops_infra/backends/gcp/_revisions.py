"""Cloud Run revision names and traffic for a canary split, remembered across ``pulumi up``.

A traffic split names revisions, and the revision that served before is only known from
earlier runs: the deployment (:mod:`._deployment`) keeps it in its state. Each change of
the service template gets a new revision name (``<service>-<serial>``); when the served
model version changes, the revision that served the previous version becomes the stable
one that keeps the traffic the canary does not get.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_infra.backends.gcp._legacy_providers import LegacyBookkeepingProvider

__all__ = ["plan_revision", "traffic_targets"]

_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def plan_revision(
    olds: Mapping[str, Any] | None, news: Mapping[str, Any]
) -> tuple[int, str, str | None]:
    """Returns ``(serial, revision, stable revision)`` after a change from ``olds`` to ``news``.

    Pure. ``olds`` and ``news`` hold ``service``, ``digest`` (of the whole template) and
    ``version``; ``olds`` also ``serial``, ``revision`` and ``stable_revision``.
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


def traffic_targets(
    revision: str | None, stable: str | None, canary_percent: int | None
) -> list[dict[str, Any]]:
    """Returns the service's ``traffic``: ``canary_percent`` to ``revision``, rest to ``stable``.

    Without a canary, or before there is a stable revision, all traffic goes to the latest.
    See https://cloud.google.com/run/docs/reference/rest/v2/TrafficTarget.
    """
    if canary_percent and revision and stable and stable != revision:
        return [
            {"type": _REVISION, "revision": revision, "percent": canary_percent},
            {"type": _REVISION, "revision": stable, "percent": 100 - canary_percent},
        ]
    return [{"type": _LATEST, "percent": 100}]


class _PlanProvider(LegacyBookkeepingProvider):  # pyright: ignore[reportUnusedClass]
    """Kept at this name for stacks whose state an earlier version wrote (see _legacy_providers)."""
