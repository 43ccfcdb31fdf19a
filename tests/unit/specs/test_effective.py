"""Effective specs: tier defaults are applied once, by the component, and read by everyone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_infra.specs import (
    ExistingTrackingServer,
    PipelineSpec,
    ServingEndpointSpec,
    StepSpec,
    TrackingServerSpec,
    effective_endpoint,
    effective_pipeline,
    effective_tracking,
    min_replicas_of,
    profile_for,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("environment", "auth", "expected"),
    [("local", None, False), ("dev", None, True), ("prod", None, True), ("prod", False, False)],
)
def test_effective_tracking(environment: str, auth: bool | None, expected: bool) -> None:
    spec = effective_tracking(TrackingServerSpec(auth=auth), profile_for(environment))
    assert spec.auth is expected


@pytest.mark.parametrize(
    ("environment", "high_availability", "expected"),
    [("dev", None, False), ("prod", None, True), ("prod", False, False), ("dev", True, True)],
)
def test_effective_tracking_decides_availability(
    environment: str, high_availability: bool | None, expected: bool
) -> None:
    spec = TrackingServerSpec(high_availability=high_availability)
    assert effective_tracking(spec, profile_for(environment)).high_availability is expected


@pytest.mark.parametrize(
    ("environment", "wait_for_run", "expected"),
    [("local", None, True), ("dev", None, True), ("prod", None, False), ("prod", True, True)],
)
def test_effective_pipeline(environment: str, wait_for_run: bool | None, expected: bool) -> None:
    spec = PipelineSpec(
        name="p", steps=(StepSpec(name="s", component="c.s"),), wait_for_run=wait_for_run
    )
    assert effective_pipeline(spec, profile_for(environment)).wait_for_run is expected


def test_an_adopted_tracking_server_keeps_its_own_authentication() -> None:
    spec = TrackingServerSpec(existing=ExistingTrackingServer(url="https://mlflow.example.com"))
    assert effective_tracking(spec, profile_for("prod")) is spec


@pytest.mark.parametrize(
    ("environment", "min_replicas", "expected"),
    [("local", None, 1), ("prod", None, 2), ("prod", 1, 1), ("dev", 0, 0)],
)
def test_effective_endpoint(environment: str, min_replicas: int | None, expected: int) -> None:
    spec = ServingEndpointSpec(name="e", model="m", min_replicas=min_replicas, max_replicas=4)
    profile = profile_for(environment)
    assert effective_endpoint(spec, profile).min_replicas == expected
    assert min_replicas_of(spec, profile) == expected


def test_no_module_applies_tier_defaults_itself() -> None:
    """``spec.x if spec.x is not None else profile.x`` lives in specs/effective.py only.

    (A flavor's own options may still default by tier: they are not part of the spec.)
    """
    pattern = re.compile(r"spec\.(\w+)\s+if\s+spec\.\1\s+is not None\s+else\s+[\w.]*profile\.")
    found = [
        str(path.relative_to(REPO))
        for path in (REPO / "mlops_infra").rglob("*.py")
        if path.name != "effective.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
