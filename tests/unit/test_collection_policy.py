"""The synthesis garbage-collection policy: no automatic collection while a program runs."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from mlops_infra.offline import run_offline
from mlops_infra.offline.collection import synthesis_policy


def test_offline_runs_collect_nothing_automatically_and_restore_the_collector() -> None:
    before = gc.get_threshold()
    seen: dict[str, object] = {}

    def program() -> None:
        seen["enabled"] = gc.isenabled()

    assert gc.isenabled()
    run_offline(program)
    assert seen["enabled"] is False
    assert gc.isenabled()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_nested_policies_restore_once_at_the_outermost() -> None:
    with synthesis_policy():
        with synthesis_policy():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with synthesis_policy():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_still_restores_the_collector() -> None:
    def failing() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_offline(failing)
    assert gc.isenabled()


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
            "apply_synthesis_policy(); import gc; assert not gc.isenabled()",
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
