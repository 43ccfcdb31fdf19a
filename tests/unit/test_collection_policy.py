"""The synthesis garbage-collection policy: on while a program runs offline, undone after."""

from __future__ import annotations

import gc

import pytest

from mlops_infra.offline import run_offline
from mlops_infra.offline.collection import YOUNG_THRESHOLD, synthesis_policy


def test_offline_runs_use_the_policy_and_restore_the_collector() -> None:
    before = gc.get_threshold()
    seen: dict[str, object] = {}

    def program() -> None:
        seen["threshold"] = gc.get_threshold()[0]
        seen["frozen"] = gc.get_freeze_count()

    run_offline(program)
    assert seen["threshold"] == YOUNG_THRESHOLD
    assert isinstance(seen["frozen"], int)
    assert seen["frozen"] > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_nested_policies_restore_once_at_the_outermost() -> None:
    before = gc.get_threshold()
    with synthesis_policy():
        with synthesis_policy():
            pass
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_error_still_restores_the_collector() -> None:
    before = gc.get_threshold()

    def failing() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_offline(failing)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
