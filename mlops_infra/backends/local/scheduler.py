"""Scheduled runs of a local pipeline: a small process that runs its deployed version on cron.

``python -m mlops_infra.backends.local.scheduler CONFIG.json`` waits for each time the
cron expression fires (in its time zone), runs the deployed version's package with the
local runner (a new run each time, tagged ``mlops.trigger=schedule``), and goes back to
waiting. A failed run is logged and does not stop the schedule. Promotion stays a
deployment decision: the new model version is gated at the next ``pulumi up``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mlops_infra.backends.local.layout import log_progress
from mlops_infra.backends.local.runner import RunRequest, run_pipeline
from mlops_infra.errors import BackendError
from mlops_infra.specs.schedule import next_fire

__all__ = ["main", "request_from_config"]


def request_from_config(config: dict[str, Any]) -> RunRequest:
    """Builds the run request a scheduler config describes."""
    return RunRequest.from_props(
        config,
        version=config["version"],
        manifest=config["manifest"],
        package=Path(config["package"]),
        steps=config["steps"],
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the schedule in ``argv[0]`` (a JSON config) until the process is stopped."""
    args = sys.argv[1:] if argv is None else argv
    config: dict[str, Any] = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    zone = ZoneInfo(config["timezone"])
    progress_log = Path(config["progress_log"])
    source = f"schedule {config['name']}"

    def progress(message: str) -> None:
        log_progress(progress_log, source, message)

    while True:
        fire = next_fire(config["cron"], datetime.now(zone))
        progress(f"next run at {fire.isoformat()} ({config['cron']} {config['timezone']})")
        while (wait := (fire - datetime.now(zone)).total_seconds()) > 0:
            time.sleep(min(wait, 60.0))
        try:
            outcome = run_pipeline(
                request_from_config(config), progress, trigger="schedule", force=True
            )
        except BackendError as error:
            progress(f"scheduled run failed: {error}")
        else:
            progress(f"scheduled run {outcome.run_id} done; model version {outcome.model_version}")


if __name__ == "__main__":
    sys.exit(main())
