"""Helpers shared by the local dynamic providers."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["PROVIDER_KEY", "as_int", "changed_keys", "plain", "write_private"]

PROVIDER_KEY = "__provider"


def plain(props: Mapping[str, Any]) -> dict[str, Any]:
    """Returns the props without Pulumi's internal keys."""
    return {k: v for k, v in props.items() if not k.startswith("__")}


def changed_keys(
    olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]
) -> list[str]:
    """Returns the ``keys`` whose values differ between ``olds`` and ``news`` (absent = None)."""
    return [key for key in keys if olds.get(key) != news.get(key)]


def as_int(value: Any, default: int = 0) -> int:
    """Returns ``value`` as an int: the engine hands every number to providers as a float."""
    return default if value is None else int(value)


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` to a file only its owner can read, never world-readable even briefly."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode through os.open
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
