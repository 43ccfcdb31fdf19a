"""The CrossGuard pack, tested through its policies' ``validate`` functions.

Never import ``policy/__main__.py`` here: constructing a ``PolicyPack`` starts a gRPC
server and blocks. ``mlops_infra.policies.crossguard`` builds the policies only.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from mlops_infra.plan import PlannedResource
from mlops_infra.policies import Suppression, all_rules, rule
from mlops_infra.policies.crossguard import (
    CrossGuardSettings,
    crossguard_policies,
    facts_from_config,
    policy_for,
)
from tests.unit.policies.policycases import CASES, Case, Scenario

_PUBLISHED = [case for case in CASES if rule(case.rule).crossguard]


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        resource.protect,
        list(resource.ignore_changes),
        resource.delete_before_replace,
        [],
        PolicyCustomTimeouts(0, 0, 0),
        list(resource.additional_secret_outputs),
        resource.parent,
    )


def _policy_resource(
    resource: PlannedResource, by_urn: dict[str, PolicyResource]
) -> PolicyResource:
    return PolicyResource(
        resource.type,
        unknown_checking_proxy(dict(resource.inputs)),
        resource.urn,
        resource.name,
        _options(resource),
        None,
        None,
        [by_urn[urn] for urn in resource.depends_on if urn in by_urn],
        {},
    )


def _violations(
    case_rule: str, scenario: Scenario, suppressions: tuple[Suppression, ...] = ()
) -> list[tuple[str, str | None]]:
    settings = CrossGuardSettings(stack="dev", facts=scenario.facts, suppressions=suppressions)
    policy = policy_for(rule(case_rule), settings)
    found: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    if isinstance(policy, StackValidationPolicy):
        by_urn: dict[str, PolicyResource] = {}
        for item in (*scenario.others, scenario.resource):
            if item.urn not in by_urn:
                by_urn[item.urn] = _policy_resource(item, by_urn)
        for item in scenario.others:  # dependents after what they depend on
            by_urn[item.urn] = _policy_resource(item, by_urn)
        policy.validate(StackValidationArgs(list(by_urn.values())), report)
    else:
        assert isinstance(policy, ResourceValidationPolicy)
        resource = scenario.resource
        args = ResourceValidationArgs(
            resource.type,
            unknown_checking_proxy(dict(resource.inputs)),
            resource.urn,
            resource.name,
            _options(resource),
            None,
        )
        policy.validate(args, report)
    return found


def _crossguard_bad(case: Case) -> Scenario:
    if case.rule == "MLOPS-PROT-001":  # CrossGuard does not report retain_on_delete
        return replace(case.bad, resource=replace(case.bad.resource, protect=False))
    return case.bad


def test_one_policy_per_published_rule() -> None:
    policies = crossguard_policies(CrossGuardSettings(stack="dev", facts=_PUBLISHED[0].good.facts))
    assert [p.name for p in policies] == [r.id for r in all_rules() if r.crossguard]
    assert "MLOPS-SECRET-001" not in {p.name for p in policies}  # CrossGuard unwraps secrets
    s3 = next(p for p in policies if p.name == "MLOPS-AWS-S3-001")
    assert isinstance(s3, StackValidationPolicy)
    assert s3.tags is not None
    assert "CKV2_AWS_6" in s3.tags


@pytest.mark.parametrize("case", _PUBLISHED, ids=str)
def test_validate_passes_the_compliant_fixture(case: Case) -> None:
    assert _violations(case.rule, case.good) == []


@pytest.mark.parametrize("case", _PUBLISHED, ids=str)
def test_validate_catches_the_broken_fixture(case: Case) -> None:
    found = _violations(case.rule, _crossguard_bad(case))
    assert len(found) == 1
    message, urn = found[0]
    assert message.startswith(f"{case.bad.resource.name}: ")
    if rule(case.rule).uses_stack:
        assert urn == case.bad.resource.urn


def test_a_suppression_silences_the_policy() -> None:
    case = next(c for c in _PUBLISHED if c.rule == "MLOPS-AWS-ECR-001")
    accepted = Suppression(
        rule=case.rule, stack="dev", resource="*", reason="legacy repo, migrating (OPS-7)"
    )
    assert _violations(case.rule, case.bad, (accepted,)) == []


def test_unknown_preview_values_count_as_set() -> None:
    key = PlannedResource(
        urn="urn:pulumi:dev::mlops::aws:secretsmanager/secret:Secret::s",
        type="aws:secretsmanager/secret:Secret",
        name="s",
        inputs={"kmsKeyId": UNKNOWN_STRING_VALUE},
    )
    assert _violations("MLOPS-AWS-SECRETS-001", Scenario(key)) == []


@pytest.mark.parametrize(
    ("config", "tier", "gpus"),
    [
        (
            {
                "mlops:cloud": "local",
                "mlops:environment": "prod",
                "mlops:stack": '{"limits": {"max_total_gpus": 4}}',
            },
            "production",
            4,
        ),
        ({"mlops:environment": "staging"}, "staging", 64),
        ({"mlops:cloud": "nowhere", "mlops:environment": "qa"}, "staging", 64),
        ({}, "local", 64),
    ],
)
def test_facts_from_config(config: dict[str, Any], tier: str, gpus: int) -> None:
    facts = facts_from_config(config)
    assert (facts.tier, facts.limits.max_total_gpus) == (tier, gpus)


def test_facts_fall_back_to_the_stack_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  mlops:cloud: local\n  mlops:environment: prod\n"
        "  mlops:stack:\n    limits: {max_total_gpus: 3}\n",
        encoding="utf-8",
    )
    settings = CrossGuardSettings(stack="org/mlops/prod", stack_dir=tmp_path)
    assert settings.stack == "prod"
    assert (settings.facts.tier, settings.facts.limits.max_total_gpus) == ("production", 3)
