"""Rules: pure functions with stable ids over planned resources, and what they return.

A rule's check takes one resource and the stack context and returns an :class:`Outcome`:
compliant, non-compliant (with a message saying what to change), or not applicable.
Ids never change once published; a retired rule keeps its id out of reuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mlops_infra.plan.model import PlannedResource
    from mlops_infra.policies.context import PolicyContext

__all__ = [
    "RULE_ID_PATTERN",
    "Check",
    "Outcome",
    "Rule",
    "Severity",
    "Status",
    "compliant",
    "not_applicable",
    "violation",
]

RULE_ID_PATTERN = r"^MLOPS(-[A-Z0-9]+)+-\d{3}$"
"""Rule ids: ``MLOPS-<AREA>[-<SERVICE>]-<NNN>``, e.g. ``MLOPS-AWS-S3-001``."""

_RULE_ID_RE = re.compile(RULE_ID_PATTERN)

Severity = Literal["critical", "high", "medium", "low"]
"""How bad a violation is."""


class Status(StrEnum):
    """What a rule found on one resource."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Outcome:
    """A rule's verdict on one resource.

    Attributes:
        status: Compliant, non-compliant or not applicable.
        message: For a violation, what is wrong and what to set; else why (optional).
    """

    status: Status
    message: str = ""

    @property
    def applies(self) -> bool:
        """Whether the rule applied (compliant or not)."""
        return self.status != Status.NOT_APPLICABLE


def compliant() -> Outcome:
    """Returns a compliant outcome."""
    return Outcome(Status.COMPLIANT)


def violation(message: str) -> Outcome:
    """Returns a non-compliant outcome with ``message`` (what is wrong, what to set)."""
    return Outcome(Status.NON_COMPLIANT, message)


def not_applicable(reason: str = "") -> Outcome:
    """Returns a not-applicable outcome."""
    return Outcome(Status.NOT_APPLICABLE, reason)


Check = Callable[["PlannedResource", "PolicyContext"], Outcome]
"""A rule's check: ``(resource, context) -> Outcome``; pure, no I/O."""


@dataclass(frozen=True)
class Rule:
    """One policy rule.

    Attributes:
        id: Stable id, e.g. ``MLOPS-AWS-S3-001``.
        title: What must hold, in one line.
        pack: Pack the rule belongs to (``aws``, ``gcp``, ``azure``, ``local``, ``mlops``).
        types: Type tokens it checks; ``*`` matches every custom resource.
        check: The check.
        scanners: Ids of the public scanner rules it corresponds to (checkov ``CKV_*``,
            AWS Security Hub ``SecurityHub:<control>``).
        severity: How bad a violation is.
        remediation: What to change, in one line.
        uses_stack: The check looks at other resources (``context.resources``); CrossGuard
            runs it as a stack policy.
        crossguard: Published in the CrossGuard pack. Off for checks that need what
            CrossGuard does not pass on (secret markers: it hands policies plain values).
    """

    id: str
    title: str
    pack: str
    types: tuple[str, ...]
    check: Check
    scanners: tuple[str, ...] = ()
    severity: Severity = "high"
    remediation: str = ""
    uses_stack: bool = False
    crossguard: bool = True

    def __post_init__(self) -> None:
        """Rejects malformed ids and rules that check nothing."""
        if not _RULE_ID_RE.fullmatch(self.id):
            msg = f"rule id {self.id!r} does not match {RULE_ID_PATTERN}"
            raise ValueError(msg)
        if not self.types:
            msg = f"rule {self.id} names no resource types"
            raise ValueError(msg)

    def matches(self, resource: PlannedResource) -> bool:
        """Whether ``resource`` is of a type this rule checks."""
        if "*" in self.types:
            return resource.custom
        return resource.type in self.types

    def evaluate(self, resource: PlannedResource, context: PolicyContext) -> Outcome:
        """Runs the check on ``resource`` (not applicable when its type does not match)."""
        if not self.matches(resource):
            return not_applicable("type not checked by this rule")
        return self.check(resource, context)
