"""Suppressions: accepted violations, each for one rule, stack and resource, with a reason.

They live in ``stacks/policy-suppressions.yaml`` (never in the stack spec)::

    version: 1
    suppressions:
      - rule: MLOPS-AWS-S3-006
        stack: dev
        resource: mlops-store-logs
        reason: access logs expire through the organisation's log policy (SEC-142)

``stack`` and ``resource`` may be ``*`` (every stack / every resource the rule checks);
``reason`` is required and may not be blank.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlops_infra.errors import SpecIssue, SpecValidationError
from mlops_infra.policies.model import RULE_ID_PATTERN

__all__ = [
    "SUPPRESSIONS_FILE",
    "Suppression",
    "SuppressionFile",
    "load_suppressions",
]

SUPPRESSIONS_FILE = "policy-suppressions.yaml"
"""File name of the suppressions, beside the stack files."""


class Suppression(BaseModel):
    """One accepted violation."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    rule: str = Field(pattern=RULE_ID_PATTERN)
    """Id of the rule, e.g. ``MLOPS-AWS-S3-006``."""

    stack: str = Field(min_length=1)
    """Stack name, or ``*`` for every stack."""

    resource: str = Field(min_length=1)
    """Resource name (logical), or ``*`` for every resource the rule checks."""

    reason: str = Field(min_length=1)
    """Why the violation is accepted: a ticket, an owner, a compensating control."""

    @field_validator("reason")
    @classmethod
    def _meaningful(cls, value: str) -> str:
        if len(value) < 10:
            msg = (
                f"reason {value!r} is too short; say why the violation is accepted (10+ characters)"
            )
            raise ValueError(msg)
        return value

    def covers(self, rule_id: str, stack: str, resource: str) -> bool:
        """Whether this suppression accepts ``rule_id`` on ``resource`` of ``stack``."""
        return (
            self.rule == rule_id and self.stack in ("*", stack) and self.resource in ("*", resource)
        )


class SuppressionFile(BaseModel):
    """The suppressions file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    """Format version."""

    suppressions: tuple[Suppression, ...] = ()
    """The accepted violations."""


def _issues(error: ValidationError) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for detail in error.errors():
        path = ".".join(str(part) for part in detail["loc"])
        issues.append(SpecIssue(path, f"{detail['msg']}; got {detail.get('input')!r}"))
    return issues


def load_suppressions(
    path: Path, known_rules: Iterable[str] | None = None
) -> tuple[Suppression, ...]:
    """Reads a suppressions file; a missing file means no suppressions.

    Args:
        path: The file.
        known_rules: Rule ids that exist; a suppression of another id is an error.

    Raises:
        SpecValidationError: the file is not valid (each problem named by its path).
    """
    if not path.is_file():
        return ()
    try:
        document: object = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SpecValidationError([SpecIssue("", f"invalid YAML: {error}")], str(path)) from None
    try:
        parsed = SuppressionFile.model_validate(document or {})
    except ValidationError as error:
        raise SpecValidationError(_issues(error), str(path)) from None
    if known_rules is not None:
        known = set(known_rules)
        unknown = [
            SpecIssue(f"suppressions.{index}.rule", f"unknown rule {item.rule!r}")
            for index, item in enumerate(parsed.suppressions)
            if item.rule not in known
        ]
        if unknown:
            raise SpecValidationError(unknown, str(path))
    return parsed.suppressions


def suppressions_from_data(data: Any) -> tuple[Suppression, ...]:
    """Validates suppressions given as data (tests, CrossGuard config)."""
    return SuppressionFile.model_validate(typing.cast(object, data)).suppressions
