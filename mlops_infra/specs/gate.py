"""Promotion gates: the conditions a model version must meet before it is served."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from mlops_infra.specs._base import Name, Spec

__all__ = ["OPERATORS", "ChampionComparison", "MetricCondition", "Operator", "PromotionGate"]

Operator = Literal[">=", ">", "<=", "<", "=="]
"""Comparison of a metric with a threshold."""

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
"""How each operator compares ``metric`` (left) with ``threshold`` (right)."""

_METRIC_RE = re.compile(r"^[A-Za-z0-9_./ -]{1,250}$")


def _check_metric(value: str) -> str:
    if not _METRIC_RE.fullmatch(value):
        msg = (
            f"{value!r} is not an MLflow metric name; allowed: letters, digits, _ . / - and spaces"
        )
        raise ValueError(msg)
    return value


class MetricCondition(Spec):
    """``metric op threshold``, read from the candidate's training run."""

    metric: str
    """Metric name as logged to MLflow, e.g. ``accuracy``."""

    op: Operator = ">="
    """Comparison."""

    threshold: float
    """Value compared with."""

    _metric = field_validator("metric")(_check_metric)

    def holds(self, value: float) -> bool:
        """Whether ``value`` satisfies the condition."""
        return OPERATORS[self.op](value, self.threshold)

    def describe(self) -> str:
        """Returns the condition as text, e.g. ``accuracy >= 0.9``."""
        return f"{self.metric} {self.op} {self.threshold:g}"


class ChampionComparison(Spec):
    """The candidate must beat the model currently served."""

    metric: str
    """Metric compared."""

    higher_is_better: bool = True
    """Direction of improvement."""

    min_improvement: float = Field(default=0.0, ge=0.0)
    """Margin by which the candidate must beat the champion."""

    _metric = field_validator("metric")(_check_metric)


class PromotionGate(Spec):
    """What a model version must satisfy before an endpoint serves it.

    Evaluated at ``pulumi up`` against the tracking server; a failing candidate leaves the
    endpoint on its previous version and the stack output says why.
    """

    conditions: tuple[MetricCondition, ...] = ()
    """Metric thresholds, all of which must hold."""

    beat_champion: ChampionComparison | None = None
    """Require an improvement over the version currently served."""

    passed_in: tuple[Name, ...] = ()
    """Environments (e.g. ``staging``) where the same version must already have passed."""

    @field_validator("passed_in")
    @classmethod
    def _unique_envs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        duplicates = sorted({env for env in value if value.count(env) > 1})
        if duplicates:
            msg = f"environments {duplicates} are listed more than once"
            raise ValueError(msg)
        return value

    @field_validator("conditions")
    @classmethod
    def _unique_conditions(cls, value: tuple[MetricCondition, ...]) -> tuple[MetricCondition, ...]:
        seen: set[tuple[str, str]] = set()
        for condition in value:
            key = (condition.metric, condition.op)
            if key in seen:
                msg = f"condition '{condition.metric} {condition.op}' is given twice"
                raise ValueError(msg)
            seen.add(key)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.conditions and self.beat_champion is None and not self.passed_in:
            msg = "a gate needs at least one of: conditions, beat_champion, passed_in"
            raise ValueError(msg)
        return self
