"""Rules on our own components, any cloud: private endpoints, gates, tracking auth, images."""

from __future__ import annotations

import re

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_ENDPOINT = ("mlops:index:ServingEndpoint",)
_PINNED_IMAGE = re.compile(r"(@sha256:[a-f0-9]{64}$)|(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]*$)")


def _private_endpoint(resource: PlannedResource, context: PolicyContext) -> Outcome:
    endpoint = context.facts.endpoint_of(resource.name)
    if endpoint is None:
        return not_applicable("no endpoint recorded for this component")
    if endpoint.public:
        return violation(
            f"endpoint {endpoint.name!r} is public; serve it inside the private network "
            "(public: false) and expose it through an authenticated gateway"
        )
    return compliant()


def _gated(resource: PlannedResource, context: PolicyContext) -> Outcome:
    endpoint = context.facts.endpoint_of(resource.name)
    if endpoint is None:
        return not_applicable("no endpoint recorded for this component")
    if context.facts.tier not in ("staging", "production"):
        return not_applicable(f"tier {context.facts.tier} does not require a gate")
    if not endpoint.gated:
        return violation(
            f"endpoint {endpoint.name!r} in {context.facts.environment} has no promotion gate; "
            "any registered version would be served"
        )
    return compliant()


def _replicas(resource: PlannedResource, context: PolicyContext) -> Outcome:
    endpoint = context.facts.endpoint_of(resource.name)
    if endpoint is None:
        return not_applicable("no endpoint recorded for this component")
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    if endpoint.min_replicas < 2:
        return violation(
            f"endpoint {endpoint.name!r} keeps {endpoint.min_replicas} replica(s); "
            "production endpoints keep at least 2 (min_replicas)"
        )
    return compliant()


def _tracking_auth(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del resource
    if context.facts.tracking_auth is None:
        return not_applicable("an existing tracking server is adopted")
    if context.facts.tier == "local":
        return not_applicable("the local tier runs on loopback only")
    if not context.facts.tracking_auth:
        return violation(
            "the tracking server accepts unauthenticated requests; remove tracking.auth: false"
        )
    return compliant()


def _store_versioned(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del resource
    if context.facts.store_versioning is None:
        return not_applicable("an existing store is adopted")
    if not context.facts.store_versioning:
        return violation("artifact store versioning is off; overwritten models cannot be recovered")
    return compliant()


def _keeps_data(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    purge = (
        context.facts.store_purge_on_delete
        if resource.type == "mlops:index:ArtifactStore"
        else context.facts.tracking_purge_on_delete
    )
    if purge:
        return violation("purge_on_delete is on: destroying the stack deletes its data")
    return compliant()


def _pinned_images(resource: PlannedResource, context: PolicyContext) -> Outcome:
    images = [i for i in context.facts.images if i.component == resource.name]
    if not images:
        return not_applicable("runs the backend's default image")
    loose = [f"{i.owner}: {i.image}" for i in images if not _PINNED_IMAGE.search(i.image)]
    if loose:
        return violation(
            "images without a digest or an explicit tag (latest moves): " + "; ".join(loose)
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-SERVE-001",
        title="Serving endpoints are private",
        pack="mlops",
        types=_ENDPOINT,
        check=_private_endpoint,
        severity="high",
        remediation="set public: false (the default)",
    ),
    Rule(
        id="MLOPS-SERVE-002",
        title="Endpoints in staging and production deploy only through a promotion gate",
        pack="mlops",
        types=_ENDPOINT,
        check=_gated,
        severity="high",
        remediation="add a gate with metric conditions (and passed_in: [staging] in prod)",
    ),
    Rule(
        id="MLOPS-SERVE-003",
        title="Production endpoints keep at least two replicas",
        pack="mlops",
        types=_ENDPOINT,
        check=_replicas,
        severity="medium",
        remediation="leave min_replicas unset (2 in production) or set it to 2 or more",
    ),
    Rule(
        id="MLOPS-TRACK-001",
        title="Tracking servers require authentication outside the local tier",
        pack="mlops",
        types=("mlops:index:TrackingServer",),
        check=_tracking_auth,
        severity="critical",
        remediation="remove tracking.auth: false",
    ),
    Rule(
        id="MLOPS-STORE-001",
        title="The artifact store keeps every object version",
        pack="mlops",
        types=("mlops:index:ArtifactStore",),
        check=_store_versioned,
        severity="medium",
        remediation="leave artifact_store.versioning on",
    ),
    Rule(
        id="MLOPS-STORE-002",
        title="Production stores and tracking servers keep their data when destroyed",
        pack="mlops",
        types=("mlops:index:ArtifactStore", "mlops:index:TrackingServer"),
        check=_keeps_data,
        severity="high",
        remediation="leave purge_on_delete off in production",
    ),
    Rule(
        id="MLOPS-IMG-001",
        title="Workload images are pinned by digest or an explicit tag (never latest)",
        pack="mlops",
        types=("mlops:index:Pipeline", "mlops:index:TrainingJob"),
        check=_pinned_images,
        severity="medium",
        remediation="reference images as repo@sha256:<digest> (or an immutable tag)",
    ),
)
