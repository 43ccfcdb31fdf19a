"""Reading a stack's outputs: from a file, or from the Pulumi CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from mlops_infra.errors import MlopsError

__all__ = ["pulumi_command", "read_stack_outputs"]


def pulumi_command() -> list[str]:
    """Returns the Pulumi CLI to run: ``$MLOPS_PULUMI``, ``scripts/pulumi``, or ``pulumi``."""
    explicit = os.environ.get("MLOPS_PULUMI")
    if explicit:
        return [explicit]
    script = Path("scripts/pulumi")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.resolve())]
    found = shutil.which("pulumi")
    if found:
        return [found]
    msg = "no Pulumi CLI found: install it (scripts/install-pulumi), or set MLOPS_PULUMI"
    raise MlopsError(msg)


def read_stack_outputs(*, stack: str | None, outputs_file: Path | None) -> dict[str, Any]:
    """Returns the outputs of ``stack`` (via ``pulumi stack output --json``) or of a saved file."""
    if outputs_file is not None:
        text = outputs_file.read_text(encoding="utf-8")
    else:
        command = [*pulumi_command(), "stack", "output", "--json"]
        if stack:
            command += ["--stack", stack]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            msg = f"cannot read the outputs of stack {stack!r}: {result.stderr.strip()}"
            raise MlopsError(msg)
        text = result.stdout
    data: Any = json.loads(text)
    if not isinstance(data, dict):
        msg = "stack outputs must be a JSON object"
        raise MlopsError(msg)
    return dict(data)  # pyright: ignore[reportUnknownArgumentType]
