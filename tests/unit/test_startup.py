"""Importing the package leaves the garbage collector as it found it."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from mlops_infra._startup import collection_paused

_PROBE = """
import gc, json, sys
if sys.argv[1] == "disabled":
    gc.disable()
before = gc.get_threshold()
import mlops_infra
print(json.dumps([gc.isenabled(), gc.get_threshold() == before]))
"""


@pytest.mark.parametrize(("state", "enabled"), [("enabled", True), ("disabled", False)])
def test_import_restores_the_collector(state: str, enabled: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, state], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [enabled, True]


def _fail_inside() -> None:
    with collection_paused():
        assert not gc.isenabled()
        raise RuntimeError


def test_collection_is_paused_in_the_block_and_restored_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        _fail_inside()
    assert gc.isenabled()


_AGED = """
import gc, json, sys
if sys.argv[1] == "frozen":
    gc.freeze()
already = gc.get_freeze_count()
import mlops_infra
young = len(gc.get_objects(0)) + len(gc.get_objects(1))
print(json.dumps([already, gc.get_freeze_count(), young]))
"""


def _aged(state: str) -> tuple[int, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _AGED, state], capture_output=True, text=True, check=True
    )
    already, frozen, young = json.loads(done.stdout.strip().splitlines()[-1])
    return already, frozen, young


def test_what_the_import_allocated_is_left_old() -> None:
    """No young collection scans the import's objects (before: 51,007 in generations 0-1)."""
    assert _aged("not frozen")[2] < 100


def test_the_processs_frozen_objects_stay_frozen() -> None:
    already, frozen, _ = _aged("frozen")
    # Some frozen objects may be freed by the import; none are released, none added.
    assert 0 < frozen <= already
