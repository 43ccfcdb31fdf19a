"""Suppressions need a reason, match by rule, stack and resource, and stale ones are reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from mlops_infra.errors import SpecValidationError
from mlops_infra.plan import Plan, StackFacts
from mlops_infra.policies import (
    PolicyReport,
    Suppression,
    all_rules,
    load_suppressions,
    rule,
    run_policies,
)
from tests.unit.policies.policycases import CASES

_CASE = next(c for c in CASES if c.rule == "MLOPS-AWS-ECR-001")


def _plan(stack: str = "dev") -> Plan:
    return Plan(project="mlops", stack=stack, facts=StackFacts(), resources=(_CASE.bad.resource,))


def _run(plan: Plan, suppressions: list[Suppression] | None = None) -> PolicyReport:
    return run_policies(plan, [rule(_CASE.rule)], suppressions or [])


def test_reason_is_mandatory() -> None:
    for reason in ("", "   ", "because"):
        with pytest.raises(ValidationError):
            Suppression(rule="MLOPS-AWS-ECR-001", stack="dev", resource="repo", reason=reason)


def test_rule_ids_are_checked() -> None:
    with pytest.raises(ValidationError):
        Suppression(rule="CKV_AWS_51", stack="dev", resource="repo", reason="tagged by CI (OPS-1)")


@pytest.mark.parametrize(
    ("stack", "resource", "covers"),
    [
        ("dev", "res", True),
        ("*", "res", True),
        ("dev", "*", True),
        ("prod", "res", False),
        ("dev", "other", False),
    ],
)
def test_matching(stack: str, resource: str, covers: bool) -> None:
    item = Suppression(
        rule=_CASE.rule, stack=stack, resource=resource, reason="legacy repository (OPS-9)"
    )
    report = _run(_plan(), [item])
    assert (not report.violations) is covers
    assert len(report.suppressed) == int(covers)
    assert (report.unused == (item,)) is (not covers and stack in ("dev", "*"))


def test_digest_counts_and_reasons() -> None:
    item = Suppression(
        rule=_CASE.rule, stack="dev", resource="res", reason="legacy repository (OPS-9)"
    )
    digest = _run(_plan(), [item]).digest()
    assert digest.violations == ()
    assert [(s.rule, s.reason) for s in digest.suppressed] == [
        (_CASE.rule, "legacy repository (OPS-9)")
    ]


def test_new_violations_are_marked_against_the_base() -> None:
    head = _run(_plan())
    assert [v.new for v in head.digest(_run(_plan())).violations] == [False]
    empty = Plan(project="mlops", stack="dev", facts=StackFacts(), resources=())
    assert [v.new for v in head.digest(_run(empty)).violations] == [True]


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "policy-suppressions.yaml"
    assert load_suppressions(path) == ()
    path.write_text(
        "version: 1\nsuppressions:\n"
        "  - {rule: MLOPS-AWS-ECR-001, stack: dev, resource: repo,"
        " reason: mirrors upstream tags (OPS-3)}\n",
        encoding="utf-8",
    )
    known = [r.id for r in all_rules()]
    assert [s.resource for s in load_suppressions(path, known)] == ["repo"]
    path.write_text(
        "suppressions:\n"
        "  - {rule: MLOPS-NOPE-001, stack: dev, resource: repo, reason: why not at all}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecValidationError, match="unknown rule 'MLOPS-NOPE-001'"):
        load_suppressions(path, known)
    path.write_text("suppressions:\n  - {rule: MLOPS-AWS-ECR-001, stack: dev}\n", encoding="utf-8")
    with pytest.raises(SpecValidationError, match=r"suppressions\.0\.resource"):
        load_suppressions(path, known)


def test_tallies() -> None:
    report = _run(_plan())
    tally = next(t for t in report.tallies() if t.rule.id == _CASE.rule)
    assert (tally.applied, tally.passed, tally.failed, tally.suppressed) == (1, 0, 1, 0)
