"""Cloud Run helpers: deterministic service URLs and per-service invoker grants.

Cloud Run serves every service at ``https://<service>-<project number>.<region>.run.app``
(besides the older hashed URL). The stack hands that URL on, so a workload can be
allowed to invoke exactly that service (``roles/run.invoker`` on it, never ``allUsers``).
"""

from __future__ import annotations

import re

import pulumi
from pulumi_gcp import cloudrunv2, serviceaccount

from mlops_infra.backends.gcp._naming import fmt
from mlops_infra.backends.gcp._scope import AnyContext, project_id
from mlops_infra.errors import BackendError

__all__ = [
    "INVOKER",
    "MAX_SERVICE_NAME",
    "STARTUP_PROBE_BUDGET_S",
    "STARTUP_PROBE_PERIOD_S",
    "grant_invoker",
    "parse_service_url",
    "service_url",
]

INVOKER = "roles/run.invoker"
"""Role that lets a principal call one Cloud Run service."""

MAX_SERVICE_NAME = 40
"""Longest service name we use: leaves room for revision suffixes (63 in all)."""

STARTUP_PROBE_BUDGET_S = 240
"""Longest a service's startup probe may keep failing: ``failureThreshold * periodSeconds``
cannot exceed 240 s, and ``initialDelaySeconds`` is at most 240 s
(https://cloud.google.com/run/docs/configuring/healthchecks); a longer budget is refused."""

STARTUP_PROBE_PERIOD_S = 10
"""Seconds between two startup probes of the stack's services."""

_URL_RE = re.compile(
    r"^https://(?P<name>[a-z][a-z0-9-]*)-(?P<number>[0-9]+)\.(?P<region>[a-z0-9-]+)\.run\.app/?$"
)


def service_url(
    name: pulumi.Input[str], region: str, number: pulumi.Input[str]
) -> pulumi.Output[str]:
    """Returns the deterministic URL of service ``name`` in ``region``."""
    return fmt("https://{}-{}.{}.run.app", name, number, region)


def parse_service_url(url: str) -> tuple[str, str]:
    """Returns ``(service, region)`` of a deterministic Cloud Run URL.

    Raises:
        BackendError: ``url`` is not one (e.g. a tracking server run elsewhere).
    """
    match = _URL_RE.fullmatch(url)
    if match is None:
        msg = (
            f"{url!r} is not a Cloud Run service URL (https://NAME-NUMBER.REGION.run.app), so "
            "no invoker role can be granted on it; set the flavor option "
            "'tracking_invoker: false' when the tracking server runs elsewhere"
        )
        raise BackendError(msg)
    return match["name"], match["region"]


def grant_invoker(
    ctx: AnyContext, label: str, url: pulumi.Input[str], account: serviceaccount.Account
) -> cloudrunv2.ServiceIamMember:
    """Lets ``account`` invoke the Cloud Run service at ``url`` (``<name>-<label>``)."""
    parsed = pulumi.Output.from_input(url).apply(parse_service_url)
    return cloudrunv2.ServiceIamMember(
        ctx.child_name(label),
        name=parsed.apply(lambda p: p[0]),
        location=parsed.apply(lambda p: p[1]),
        project=project_id(),
        role=INVOKER,
        member=account.member,
        opts=ctx.opts(),
    )
