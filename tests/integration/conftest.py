"""Integration tests drive the real Pulumi engine, installed by `scripts/install-pulumi`.

Without `.tools/bin/pulumi` the tests marked `integration` are skipped with the command that
installs it, unless `MLOPS_REQUIRE_ENGINE` is set (CI sets it): then a missing CLI fails them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlops_infra.testing.engine import EngineHarness

REPO = Path(__file__).resolve().parents[2]
PULUMI = REPO / ".tools" / "bin" / "pulumi"
PROGRAMS = Path(__file__).resolve().parent / "programs"


@pytest.fixture(autouse=True)
def _require_engine(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("integration") is None or PULUMI.is_file():
        return
    message = f"the Pulumi CLI is not installed ({PULUMI} is missing): run scripts/install-pulumi"
    if os.environ.get("MLOPS_REQUIRE_ENGINE"):
        pytest.fail(f"MLOPS_REQUIRE_ENGINE is set but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def engine_harness() -> Iterator[Callable[..., EngineHarness]]:
    """Make harnesses that are closed (destroyed, workspace deleted) after the test."""
    made: list[EngineHarness] = []

    def make(project_dir: Path, stack: str, **kwargs: object) -> EngineHarness:
        harness = EngineHarness(project_dir, stack, **kwargs)  # type: ignore[arg-type]
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
