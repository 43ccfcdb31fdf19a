"""Schedules: standard five-field cron expressions, validated field by field."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from mlops_infra.specs._base import Spec

__all__ = ["ScheduleSpec", "check_cron"]

_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            name: index + 1
            for index, name in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    (
        "day-of-week",
        0,
        6,
        {
            name: index
            for index, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])
        },
    ),
)
_TERM_RE = re.compile(r"^(?P<range>\*|[a-z0-9]+(-[a-z0-9]+)?)(/(?P<step>[0-9]+))?$")


def _value(token: str, field: str, low: int, high: int, names: dict[str, int]) -> int:
    if token in names:
        return names[token]
    if not token.isdigit():
        msg = f"{field} {token!r} is not a number" + (
            f" or a name ({', '.join(names)})" if names else ""
        )
        raise ValueError(msg)
    number = int(token)
    # Day-of-week 7 is Sunday in most cron dialects.
    if field == "day-of-week" and number == 7:
        return 0
    if not low <= number <= high:
        msg = f"{field} {number} is out of range; allowed: {low}-{high}"
        raise ValueError(msg)
    return number


def check_cron(expression: str) -> str:
    """Validates a five-field cron expression and returns it normalized (single spaces).

    Raises:
        ValueError: naming the field, the value given and the allowed range.
    """
    parts = expression.split()
    if len(parts) != 5:
        msg = (
            f"{expression!r} has {len(parts)} fields; a cron expression has 5: "
            "minute hour day-of-month month day-of-week"
        )
        raise ValueError(msg)
    for part, (field, low, high, names) in zip(parts, _FIELDS, strict=True):
        for term in part.lower().split(","):
            match = _TERM_RE.fullmatch(term)
            if match is None:
                msg = f"{field} {term!r} is not a cron term; allowed: *, N, N-M, */S, N-M/S, lists"
                raise ValueError(msg)
            step = match["step"]
            if step is not None and int(step) == 0:
                msg = f"{field} step in {term!r} must be at least 1"
                raise ValueError(msg)
            if match["range"] != "*":
                bounds = [_value(t, field, low, high, names) for t in match["range"].split("-")]
                if len(bounds) == 2 and bounds[0] > bounds[1]:
                    msg = f"{field} range {term!r} runs backwards"
                    raise ValueError(msg)
    return " ".join(parts)


class ScheduleSpec(Spec):
    """When a pipeline runs on its own, besides runs triggered by changes."""

    cron: str
    """Five-field cron expression, e.g. ``0 3 * * 1`` (Mondays 03:00)."""

    timezone: str = "UTC"
    """IANA time zone the expression is read in."""

    enabled: bool = True
    """Pause the schedule without deleting it."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"{value!r} is not an IANA time zone; allowed: names like UTC, Europe/Paris"
            raise ValueError(msg) from None
        return value
