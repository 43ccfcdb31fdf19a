"""Property paths: which inputs changed, and whether a path matches a pattern.

Paths use Pulumi's notation: ``rules[0].applyServerSideEncryptionByDefault.sseAlgorithm``.
A pattern may use ``[*]`` for any index and ``*`` alone for every property.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["changed_paths", "matches", "top_level"]

_INDEX = re.compile(r"\[\d+\]")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _join(prefix: str, key: str) -> str:
    part = key if _SIMPLE_KEY.fullmatch(key) else f'["{key}"]'
    if not prefix:
        return part
    return f"{prefix}{part}" if part.startswith("[") else f"{prefix}.{part}"


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Returns the paths of every leaf that differs between ``old`` and ``new``, sorted.

    A key present on one side only is reported at its own path; lists are compared
    item by item, extra items reported by index.
    """
    if old == new:
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        left = typing.cast(Mapping[str, Any], old)
        right = typing.cast(Mapping[str, Any], new)
        found: list[str] = []
        for key in sorted(set(left) | set(right)):
            path = _join(prefix, key)
            if key not in left or key not in right:
                found.append(path)
            else:
                found += changed_paths(left[key], right[key], path)
        return found
    if isinstance(old, list) and isinstance(new, list):
        left_items = typing.cast(list[Any], old)
        right_items = typing.cast(list[Any], new)
        found = []
        for index in range(max(len(left_items), len(right_items))):
            path = f"{prefix}[{index}]"
            if index >= len(left_items) or index >= len(right_items):
                found.append(path)
            else:
                found += changed_paths(left_items[index], right_items[index], path)
        return found
    return [prefix or "*"]


def top_level(path: str) -> str:
    """Returns the top-level property of a path (``rules`` for ``rules[0].x``)."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether ``path`` is, or lies under, one of ``patterns`` (``*``: everything)."""
    generic = _INDEX.sub("[*]", path)
    for pattern in patterns:
        if pattern == "*":
            return True
        wanted = _INDEX.sub("[*]", pattern)
        if generic == wanted or generic.startswith((wanted + ".", wanted + "[")):
            return True
    return False
