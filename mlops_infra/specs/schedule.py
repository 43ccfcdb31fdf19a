"""Schedules: standard five-field cron expressions, validated field by field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from mlops_infra.specs._base import Spec

__all__ = ["ScheduleSpec", "check_cron", "next_fire"]

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


def _expand(part: str, field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for term in part.lower().split(","):
        match = _TERM_RE.fullmatch(term)
        if match is None:  # check_cron rejects these before we get here
            msg = f"{field} {term!r} is not a cron term"
            raise ValueError(msg)
        step = int(match["step"] or 1)
        if match["range"] == "*":
            start, end = low, high
        else:
            bounds = [_value(t, field, low, high, names) for t in match["range"].split("-")]
            start, end = (
                bounds[0],
                bounds[-1] if len(bounds) == 2 else (high if match["step"] else bounds[0]),
            )
        values.update(range(start, end + 1, step))
    return values


def next_fire(expression: str, after: datetime) -> datetime:
    """Returns the first time strictly after ``after`` that ``expression`` fires.

    ``after`` must be timezone-aware; the result is in its timezone. As in cron, when
    both day-of-month and day-of-week are restricted, a day matching either fires.
    """
    parts = check_cron(expression).split()
    minutes, hours, days, months, weekdays = (
        _expand(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)
    )
    any_day, any_weekday = parts[2] == "*", parts[4] == "*"
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = moment + timedelta(days=366 * 5)
    while moment < limit:
        weekday = (moment.weekday() + 1) % 7  # cron counts from Sunday = 0
        if any_day or any_weekday:
            day_ok = moment.day in days and weekday in weekdays
        else:
            day_ok = moment.day in days or weekday in weekdays
        if moment.month not in months or not day_ok:
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        elif moment.hour not in hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
        elif moment.minute not in minutes:
            moment += timedelta(minutes=1)
        else:
            return moment
    msg = f"{expression!r} never fires (within five years)"
    raise ValueError(msg)


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
