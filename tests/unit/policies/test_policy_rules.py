"""Every rule: a compliant fixture passes, its deliberately broken fixture is caught."""

from __future__ import annotations

import re

import pytest

from mlops_infra.plan import Plan
from mlops_infra.policies import (
    PACKS,
    PolicyContext,
    Status,
    all_rules,
    rule,
    rules_of,
    run_policies,
)
from tests.unit.policies.policycases import CASES, Case, Scenario, res

_SCANNER_ID = re.compile(r"^(CKV2?_(AWS|GCP|AZURE)_\d+|SecurityHub:[A-Za-z0-9]+\.\d+)$")


def _context(scenario: Scenario) -> PolicyContext:
    return PolicyContext(
        stack="dev", facts=scenario.facts, resources=(scenario.resource, *scenario.others)
    )


def test_at_least_forty_rules_with_stable_unique_ids() -> None:
    rules = all_rules()
    assert len(rules) >= 40
    assert len({r.id for r in rules}) == len(rules)
    assert set(PACKS) == {"mlops", "aws", "gcp", "azure", "local"}
    assert all(r.id.startswith("MLOPS-") for r in rules)
    assert sum(len(p) for p in PACKS.values()) == len(rules)


def test_scanner_ids_look_like_public_ids() -> None:
    for item in all_rules():
        for scanner in item.scanners:
            assert _SCANNER_ID.fullmatch(scanner), f"{item.id}: {scanner}"


def test_pack_selection() -> None:
    assert {r.pack for r in rules_of(["aws", "local"])} == {"aws", "local"}
    with pytest.raises(KeyError, match="unknown pack"):
        rules_of(["nope"])
    assert rule("MLOPS-AWS-S3-003").scanners == ("CKV_AWS_21",)


def test_every_rule_has_a_case() -> None:
    assert sorted(case.rule for case in CASES) == sorted(r.id for r in all_rules())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_compliant_fixture_passes(case: Case) -> None:
    outcome = rule(case.rule).evaluate(case.good.resource, _context(case.good))
    assert outcome.status == Status.COMPLIANT, outcome.message


@pytest.mark.parametrize("case", CASES, ids=str)
def test_broken_fixture_is_caught(case: Case) -> None:
    outcome = rule(case.rule).evaluate(case.bad.resource, _context(case.bad))
    assert outcome.status == Status.NON_COMPLIANT
    assert case.says in outcome.message


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_runner_reports_the_broken_fixture(case: Case) -> None:
    plan = Plan(
        project="mlops",
        stack="dev",
        facts=case.bad.facts,
        resources=(case.bad.resource, *case.bad.others),
    )
    report = run_policies(plan)
    assert (case.rule, case.bad.resource.name) in {
        (f.rule.id, f.resource.name) for f in report.violations
    }


def test_rules_do_not_apply_to_other_types() -> None:
    case = CASES[0]
    bucket_rule = rule("MLOPS-AWS-S3-003")
    assert (
        bucket_rule.evaluate(case.good.resource, _context(case.good)).status
        == Status.NOT_APPLICABLE
    )


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        # A Cloud Run job's execution tokens name the next execution; they are not secrets.
        ({"runExecutionToken": "v-3f2a"}, "compliant"),
        ({"startExecutionToken": "v-3f2a"}, "compliant"),
        # IMDSv2 required or optional on a launch template: a setting, not a token.
        ({"metadataOptions": {"httpTokens": "required"}}, "compliant"),
        ({"apiToken": "plain"}, "non-compliant"),
        ({"executionPassword": "plain"}, "non-compliant"),
    ],
)
def test_plaintext_secret_rule_tells_tokens_naming_an_execution_from_credentials(
    inputs: dict[str, object], expected: str
) -> None:
    scenario = Scenario(res("gcp:cloudrunv2/job:Job", inputs))
    outcome = rule("MLOPS-SECRET-001").check(scenario.resource, _context(scenario))
    assert outcome.status.value == expected
