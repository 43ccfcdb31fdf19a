"""The synthesis garbage-collection policy: on while a program runs offline, undone after."""

from __future__ import annotations

import gc
import subprocess
import sys

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


_REPORT_AT_EXIT = """
import atexit, gc, sys
# Registered first, so it runs last of the exit handlers: it sees what the process exits with.
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
{setup}
"""


@pytest.mark.parametrize(
    ("setup", "frozen"),
    [
        ("pass", False),
        ("from mlops_infra.offline.collection import freeze_at_exit; freeze_at_exit()", True),
        (
            "from mlops_infra.offline.collection import apply_synthesis_policy\n"
            "apply_synthesis_policy(); import gc; gc.unfreeze()",
            True,
        ),
        (
            "import sys; sys.argv = ['mlops-infra', '--help']\nfrom mlops_infra.cli import run; run()",
            True,
        ),
    ],
    ids=["default", "freeze_at_exit", "program process", "cli"],
)
def test_the_heap_is_frozen_before_the_interpreter_tears_it_down(
    setup: str, *, frozen: bool
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _REPORT_AT_EXIT.format(setup=setup)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert f"frozen at exit: {frozen}" in done.stdout, done.stderr[-2000:]
