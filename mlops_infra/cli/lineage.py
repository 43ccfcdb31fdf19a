"""``mlops-infra lineage ENDPOINT --stack S``: from a served endpoint back to its data."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlops_infra.cli.outputs import read_stack_outputs
from mlops_infra.lineage import trace_endpoint

__all__ = ["lineage"]


def lineage(*, endpoint: str, stack: str | None, outputs_file: Path | None, as_json: bool) -> int:
    """Prints the lineage of ``endpoint``; returns 1 when a hop disagrees with another."""
    outputs = read_stack_outputs(stack=stack, outputs_file=outputs_file)
    found = trace_endpoint(
        outputs,
        endpoint,
        username=os.environ.get("MLFLOW_TRACKING_USERNAME"),
        password=os.environ.get("MLFLOW_TRACKING_PASSWORD"),
    )
    print(json.dumps(found.as_dict(), indent=2, sort_keys=True) if as_json else found.render())
    return 1 if found.mismatches else 0
