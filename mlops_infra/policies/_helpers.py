"""Small readers rules share: nested inputs, IAM policy documents, CIDRs, secret masks."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MASK",
    "as_list",
    "as_mapping",
    "as_strings",
    "get",
    "is_masked",
    "is_open_cidr",
    "policy_statements",
    "truthy",
]

MASK = "[secret]"
"""How a secret value reads in a plan (and in CrossGuard, once unwrapped by our adapter)."""

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def get(data: Mapping[str, Any], path: str) -> Any:
    """Returns the value at ``path`` (``a.b[0].c``) in nested inputs, or ``None``."""
    node: Any = data
    for match in _PART.finditer(path):
        key, index = match.group(1), match.group(2)
        if key is not None:
            node = (
                typing.cast(Mapping[str, Any], node).get(key) if isinstance(node, Mapping) else None
            )
        elif isinstance(node, list):
            items = typing.cast(list[Any], node)
            position = int(index)
            node = items[position] if position < len(items) else None
        else:
            node = None
        if node is None:
            return None
    return node


def as_mapping(value: object) -> Mapping[str, Any]:
    """Returns ``value`` if it is a mapping, else an empty one."""
    return typing.cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    """Returns ``value`` as a list (``None`` → empty, a single value → one item)."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(typing.cast(list[Any], value))
    return [value]


def as_strings(value: object) -> list[str]:
    """Returns the strings in ``value`` (a string or a list of them)."""
    return [item for item in as_list(value) if isinstance(item, str)]


def truthy(value: object) -> bool:
    """Whether an input is set to true (``True`` or ``"true"``)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_masked(value: object) -> bool:
    """Whether a value is a masked secret."""
    return value == MASK


def is_open_cidr(value: object) -> bool:
    """Whether a CIDR admits the whole internet."""
    return value in ("0.0.0.0/0", "::/0")


def policy_statements(document: object) -> list[Mapping[str, Any]]:
    """Returns the statements of an IAM policy document (a JSON string or a mapping).

    An unparsable document gives no statements (it cannot be judged offline).
    """
    parsed: object = document
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except json.JSONDecodeError:
            return []
    statements = as_mapping(parsed).get("Statement")
    return [m for m in (as_mapping(s) for s in as_list(statements)) if m]
