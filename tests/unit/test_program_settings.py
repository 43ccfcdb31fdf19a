"""apply_program_settings: the program process's settings, for good or not at all."""

from __future__ import annotations

import gc
import subprocess
import sys

import pulumi.runtime.resource as sdk_resource
import pulumi.runtime.rpc as sdk_rpc

from mlops_infra.offline import run_offline
from mlops_infra.program import apply_program_settings
from tests.unit.aws.helpers import REPO


def test_a_process_keeps_all_three_settings_for_good() -> None:
    code = (
        "import gc\n"
        "import pulumi.runtime.resource as sdk, pulumi.runtime.rpc as rpc\n"
        "from mlops_infra.offline import run_offline\n"
        "from mlops_infra.program import apply_program_settings\n"
        "apply_program_settings()\n"
        "run_offline(lambda: None)\n"
        "print(gc.isenabled(), sdk._get_stack_trace.__module__, rpc.contains_unknowns.__module__)\n"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()
    assert printed == "False mlops_infra.offline.stack_traces mlops_infra.offline.unknowns"


def test_inside_an_offline_run_it_changes_nothing_after_the_run() -> None:
    before = (gc.isenabled(), sdk_resource._get_stack_trace, sdk_rpc.contains_unknowns)  # pyright: ignore[reportPrivateUsage]
    run_offline(apply_program_settings)
    after = (gc.isenabled(), sdk_resource._get_stack_trace, sdk_rpc.contains_unknowns)  # pyright: ignore[reportPrivateUsage]
    assert after == before
