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
