"""Retention rules on a local store: delete files under a prefix once they are old enough."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["MARKER", "apply_retention", "write_marker"]

MARKER = ".mlops-store.json"
"""File in the store's root recording its rules (so runners apply them too)."""


def write_marker(root: Path, lifecycle: Sequence[Mapping[str, Any]]) -> None:
    """Records the store's lifecycle rules in its root."""
    (root / MARKER).write_text(
        json.dumps({"lifecycle": list(lifecycle)}, indent=2), encoding="utf-8"
    )


def apply_retention(
    root: Path, lifecycle: Sequence[Mapping[str, Any]], now: float | None = None
) -> int:
    """Deletes files older than each rule's ``expire_after_days`` under its ``prefix``.

    Returns how many files were deleted. The marker file is never deleted; empty folders
    left behind are removed. ``noncurrent_after_days`` has no meaning without object
    versions and is ignored here.
    """
    current = time.time() if now is None else now
    deleted = 0
    for rule in lifecycle:
        days = rule.get("expire_after_days")
        if not days:
            continue
        cutoff = current - float(days) * 86400
        base = root / str(rule.get("prefix") or "")
        if not base.resolve().is_relative_to(root.resolve()):
            continue  # the spec refuses such prefixes; never delete outside the store
        # A prefix may end inside a name ("tmp" matches "tmp-x/"); walk its parent folder.
        folder = (
            base
            if str(rule.get("prefix", "")).endswith("/") or not rule.get("prefix")
            else base.parent
        )
        if not folder.is_dir():
            continue
        prefix_text = str(base)
        for directory, _, files in os.walk(folder, topdown=False):
            for name in files:
                path = Path(directory) / name
                if name == MARKER or not str(path).startswith(prefix_text):
                    continue
                try:
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        deleted += 1
                except OSError:
                    continue
            if Path(directory) not in (folder, root):
                with contextlib.suppress(OSError):
                    Path(directory).rmdir()  # only succeeds when empty
    return deleted
