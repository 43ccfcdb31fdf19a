"""Policy results as a diff report shows them (filled in by :mod:`mlops_infra.policies`).

Kept here, as plain data, so rendering a diff needs no policy code: the command line runs
the policies and hands the digest to the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PolicyDigest", "PolicyLine"]


@dataclass(frozen=True)
class PolicyLine:
    """One policy finding on one resource.

    Attributes:
        rule: Rule id, e.g. ``MLOPS-AWS-S3-001``.
        title: Rule title.
        resource: Resource name.
        message: What is wrong.
        reason: Why it is accepted (suppressions only).
        new: The finding is absent from the base plan.
    """

    rule: str
    title: str
    resource: str
    message: str
    reason: str | None = None
    new: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Returns the line as JSON-ready data."""
        return {
            "rule": self.rule,
            "title": self.title,
            "resource": self.resource,
            "message": self.message,
            "reason": self.reason,
            "new": self.new,
        }


@dataclass(frozen=True)
class PolicyDigest:
    """What the policies found in one plan.

    Attributes:
        rules_applied: Rules that applied to at least one resource.
        checks: Rule-resource evaluations that applied.
        passed: Evaluations that passed.
        violations: Unsuppressed violations.
        suppressed: Violations accepted by a suppression (with its reason).
    """

    rules_applied: int
    checks: int
    passed: int
    violations: tuple[PolicyLine, ...] = ()
    suppressed: tuple[PolicyLine, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Returns the digest as JSON-ready data."""
        return {
            "rules_applied": self.rules_applied,
            "checks": self.checks,
            "passed": self.passed,
            "violations": [line.to_dict() for line in self.violations],
            "suppressed": [line.to_dict() for line in self.suppressed],
        }
