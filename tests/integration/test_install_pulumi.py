"""`scripts/install-pulumi` is idempotent and fast once the CLI is installed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_second_install_is_quick_and_pinned() -> None:
    start = time.monotonic()
    done = subprocess.run(
        [str(REPO / "scripts" / "install-pulumi")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    bin_dir = Path(done.stdout.strip().splitlines()[-1])
    assert bin_dir == REPO / ".tools" / "bin"
    assert elapsed < 10, f"a warm install took {elapsed:.1f}s\n{done.stderr}"
    for helper in (
        "pulumi-language-python",
        "pulumi-language-python-exec",
        "pulumi-resource-pulumi-python",
    ):
        assert (bin_dir / helper).is_file(), helper
    version = subprocess.run(
        [str(bin_dir / "pulumi"), "version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "v3.274.1"


def test_print_env_defines_the_offline_environment() -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "pulumi"), "--print-env"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)},
    )
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert exports["PULUMI_BACKEND_URL"] == f"file://{REPO}/.pulumi-state"
    assert exports["PULUMI_SKIP_UPDATE_CHECK"] == "1"
    assert exports["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "1"
    assert exports["PULUMI_HOME"] == f"{REPO}/.tools/pulumi-home"
    assert exports["PULUMI_CONFIG_PASSPHRASE"] == "mlops-local"
    assert exports["PATH"].startswith(f"{REPO}/.tools/bin:")
