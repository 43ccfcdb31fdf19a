"""Smoke test: every benchmark script runs in its ``--quick`` mode and ends with its headline.

Nothing here is timed: the figures themselves are printed by the scripts (see
``benchmarks/README.md``); this only keeps the scripts runnable.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPTS = {
    "overhead.py": "overhead_ratio",
    "scaling.py": "scaling_ratio",
    "imports.py": "import_ratio",
    "plan_all.py": "plan_all_seconds",
}


@pytest.mark.parametrize(("script", "headline"), sorted(SCRIPTS.items()))
def test_quick_mode_prints_its_headline(script: str, headline: str) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(rf"{headline}: \d+(\.\d+)?", last), done.stdout[-3000:]
    if script == "overhead.py":
        # The hand-written program must stay a fair comparison: same resources, same inputs.
        for side in ("(b)", "(b')"):
            for aspect in ("inputs", "options", "dependencies", "stack outputs"):
                assert f"  {side} {aspect}: identical" in done.stdout, done.stdout[-3000:]
