"""Effective specs: a spec with its environment's tier defaults applied, computed once.

A spec leaves some settings to the environment (``auth: null`` means "what the tier
does": on outside ``local``). Components resolve their spec here once, build from the
result, and everything downstream (plan facts, the ML diff, policies) reads the same
values: nothing else writes out ``x if x is not None else profile.x``.
"""

from __future__ import annotations

from mlops_infra.specs.environment import EnvironmentProfile
from mlops_infra.specs.pipeline import PipelineSpec
from mlops_infra.specs.serving_endpoint import ServingEndpointSpec
from mlops_infra.specs.tracking_server import TrackingServerSpec

__all__ = [
    "effective_endpoint",
    "effective_pipeline",
    "effective_tracking",
    "min_replicas_of",
    "wait_for_run_of",
]


def effective_tracking(spec: TrackingServerSpec, profile: EnvironmentProfile) -> TrackingServerSpec:
    """Returns ``spec`` with ``auth`` and ``high_availability`` decided: its own, else the tier's.

    An adopted server (``existing``) is returned as given: its authentication and
    availability are not ours to decide.
    """
    if spec.existing is not None:
        return spec
    update: dict[str, bool] = {}
    if spec.auth is None:
        update["auth"] = profile.tracking_auth
    if spec.high_availability is None:
        update["high_availability"] = profile.high_availability
    return spec.model_copy(update=update) if update else spec


def min_replicas_of(spec: ServingEndpointSpec, profile: EnvironmentProfile) -> int:
    """The replicas an endpoint keeps when idle: the spec's own, else the tier's."""
    return spec.min_replicas if spec.min_replicas is not None else profile.min_replicas


def effective_endpoint(
    spec: ServingEndpointSpec, profile: EnvironmentProfile
) -> ServingEndpointSpec:
    """Returns ``spec`` with ``min_replicas`` decided (:func:`min_replicas_of`)."""
    if spec.min_replicas is not None:
        return spec
    return spec.model_copy(update={"min_replicas": min_replicas_of(spec, profile)})


def effective_pipeline(
    spec: PipelineSpec, profile: EnvironmentProfile, *, runs_in_up: bool = False
) -> PipelineSpec:
    """Returns ``spec`` with ``wait_for_run`` decided (:func:`wait_for_run_of`).

    ``runs_in_up``: the cloud runs every new version inside ``up`` (the local target), so
    nothing but the spec's own choice can make it not wait.
    """
    if spec.wait_for_run is not None:
        return spec
    waits = runs_in_up or wait_for_run_of(spec, profile)
    return spec.model_copy(update={"wait_for_run": waits})


def wait_for_run_of(spec: PipelineSpec, profile: EnvironmentProfile) -> bool:
    """Whether ``up`` waits for a new pipeline version's run: the spec's choice, else the tier's."""
    return spec.wait_for_run if spec.wait_for_run is not None else profile.wait_for_run
