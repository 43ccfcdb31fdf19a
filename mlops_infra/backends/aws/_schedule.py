"""Standard five-field cron → EventBridge Scheduler's six-field ``cron(...)`` expression.

EventBridge differs from cron: a year field; ``?`` in one of day-of-month/day-of-week (they
cannot both be set); days of week numbered 1-7 from Sunday (cron: 0-6 from Sunday); steps
written ``start/step`` (``*/15`` becomes ``0/15``).
"""

from __future__ import annotations

from mlops_infra.errors import BackendError

__all__ = ["eventbridge_cron"]

_STEP_START = {"minute": "0", "hour": "0", "day-of-month": "1", "month": "1"}


def _steps(term: str, field: str) -> str:
    if term.startswith("*/"):
        return f"{_STEP_START[field]}/{term[2:]}"
    return term


def _weekday(token: str) -> str:
    if token.isdigit():
        return str(int(token) % 7 + 1)
    return token.upper()


def _day_of_week(part: str) -> str:
    terms: list[str] = []
    for term in part.split(","):
        if "/" in term:
            msg = f"day-of-week step {term!r} cannot be expressed in EventBridge; list the days"
            raise BackendError(msg)
        terms.append("-".join(_weekday(t) for t in term.split("-")))
    return ",".join(terms)


def eventbridge_cron(expression: str) -> str:
    """Converts a validated five-field cron expression.

    Raises:
        BackendError: it sets both day-of-month and day-of-week, or steps days of week.
    """
    minute, hour, day, month, weekday = expression.split()
    if day != "*" and weekday != "*":
        msg = (
            f"schedule {expression!r} sets both day-of-month and day-of-week, which "
            "EventBridge Scheduler cannot combine; set one of them to *"
        )
        raise BackendError(msg)
    fields = [
        ",".join(_steps(t, "minute") for t in minute.split(",")),
        ",".join(_steps(t, "hour") for t in hour.split(",")),
        "?" if weekday != "*" else ",".join(_steps(t, "day-of-month") for t in day.split(",")),
        ",".join(_steps(t, "month") for t in month.upper().split(",")),
        "?" if weekday == "*" else _day_of_week(weekday),
        "*",
    ]
    return f"cron({' '.join(fields)})"
