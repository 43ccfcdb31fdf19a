"""Helpers shared by the local dynamic providers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PROVIDER_KEY", "as_int", "changed_keys", "plain"]

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
