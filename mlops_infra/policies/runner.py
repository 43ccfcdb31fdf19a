"""Run rules over a plan: every rule on every resource it checks, suppressions applied."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mlops_infra.plan.model import Plan, PlannedResource
from mlops_infra.plan.report import PolicyDigest, PolicyLine
from mlops_infra.policies.catalog import all_rules
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, Status
from mlops_infra.policies.suppressions import Suppression

__all__ = ["Finding", "PolicyReport", "RuleTally", "run_policies"]


@dataclass(frozen=True)
class Finding:
    """One rule's applicable verdict on one resource.

    Attributes:
        rule: The rule.
        resource: The resource.
        outcome: Compliant or non-compliant (not-applicable verdicts are not kept).
        suppression: The suppression accepting a violation, if any.
    """

    rule: Rule
    resource: PlannedResource
    outcome: Outcome
    suppression: Suppression | None = None

    @property
    def violation(self) -> bool:
        """Whether this is an unsuppressed violation."""
        return self.outcome.status == Status.NON_COMPLIANT and self.suppression is None

    def line(self, *, new: bool = False) -> PolicyLine:
        """Returns the finding as a report line."""
        return PolicyLine(
            rule=self.rule.id,
            title=self.rule.title,
            resource=self.resource.name,
            message=self.outcome.message,
            reason=self.suppression.reason if self.suppression else None,
            new=new,
        )


@dataclass(frozen=True)
class RuleTally:
    """How one rule fared on one stack.

    Attributes:
        rule: The rule.
        applied: Resources it applied to.
        passed: Resources that complied.
        failed: Unsuppressed violations.
        suppressed: Suppressed violations.
    """

    rule: Rule
    applied: int
    passed: int
    failed: int
    suppressed: int


@dataclass(frozen=True)
class PolicyReport:
    """The policy results of one stack.

    Attributes:
        stack: Stack name.
        rules: The rules that were run.
        findings: Applicable verdicts, in rule then resource order.
        unused: Suppressions for this stack that matched nothing (stale ones).
    """

    stack: str
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    unused: tuple[Suppression, ...] = ()

    @property
    def violations(self) -> list[Finding]:
        """Unsuppressed violations."""
        return [f for f in self.findings if f.violation]

    @property
    def suppressed(self) -> list[Finding]:
        """Suppressed violations."""
        return [f for f in self.findings if f.suppression is not None]

    @property
    def passed(self) -> list[Finding]:
        """Compliant verdicts."""
        return [f for f in self.findings if f.outcome.status == Status.COMPLIANT]

    def tallies(self) -> list[RuleTally]:
        """Returns one tally per rule run, in rule order."""
        tallies: list[RuleTally] = []
        for item in self.rules:
            mine = [f for f in self.findings if f.rule.id == item.id]
            tallies.append(
                RuleTally(
                    rule=item,
                    applied=len(mine),
                    passed=sum(1 for f in mine if f.outcome.status == Status.COMPLIANT),
                    failed=sum(1 for f in mine if f.violation),
                    suppressed=sum(1 for f in mine if f.suppression is not None),
                )
            )
        return tallies

    def digest(self, base: PolicyReport | None = None) -> PolicyDigest:
        """Returns the report for rendering; with ``base``, marks violations new to this plan."""
        before = (
            {(f.rule.id, f.resource.name) for f in base.violations} if base is not None else None
        )
        return PolicyDigest(
            rules_applied=sum(1 for t in self.tallies() if t.applied),
            checks=len(self.findings),
            passed=len(self.passed),
            violations=tuple(
                f.line(new=before is not None and (f.rule.id, f.resource.name) not in before)
                for f in self.violations
            ),
            suppressed=tuple(f.line() for f in self.suppressed),
        )


def run_policies(
    plan: Plan,
    rules: Sequence[Rule] | None = None,
    suppressions: Iterable[Suppression] = (),
) -> PolicyReport:
    """Runs ``rules`` (default: every rule) on every resource of ``plan``.

    Args:
        plan: The plan.
        rules: The rules to run.
        suppressions: Accepted violations; those of other stacks are ignored.
    """
    chosen = tuple(rules) if rules is not None else all_rules()
    context = PolicyContext.from_plan(plan)
    mine = [s for s in suppressions if s.stack in ("*", plan.stack)]
    used: set[Suppression] = set()
    findings: list[Finding] = []
    for item in chosen:
        for resource in plan.resources:
            outcome = item.evaluate(resource, context)
            if not outcome.applies:
                continue
            suppression = None
            if outcome.status == Status.NON_COMPLIANT:
                suppression = next(
                    (s for s in mine if s.covers(item.id, plan.stack, resource.name)), None
                )
                if suppression is not None:
                    used.add(suppression)
            findings.append(Finding(item, resource, outcome, suppression))
    return PolicyReport(
        stack=plan.stack,
        rules=chosen,
        findings=tuple(findings),
        unused=tuple(s for s in mine if s not in used),
    )
