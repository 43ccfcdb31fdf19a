"""Policies: rules with stable ids over planned resources, grouped in packs, with suppressions.

Example::

    from mlops_infra.plan import plan_stack_file
    from mlops_infra.policies import run_policies

    report = run_policies(plan_stack_file(Path("stacks/Pulumi.prod.yaml")))
    for finding in report.violations:
        print(finding.rule.id, finding.resource.name, finding.outcome.message)

The same rules run under Pulumi CrossGuard through :mod:`mlops_infra.policies.crossguard`.
"""

from mlops_infra.policies.catalog import PACKS, all_rules, rule, rules_of
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import (
    Outcome,
    Rule,
    Severity,
    Status,
    compliant,
    not_applicable,
    violation,
)
from mlops_infra.policies.runner import Finding, PolicyReport, RuleTally, run_policies
from mlops_infra.policies.suppressions import (
    SUPPRESSIONS_FILE,
    Suppression,
    SuppressionFile,
    load_suppressions,
)

__all__ = [
    "PACKS",
    "SUPPRESSIONS_FILE",
    "Finding",
    "Outcome",
    "PolicyContext",
    "PolicyReport",
    "Rule",
    "RuleTally",
    "Severity",
    "Status",
    "Suppression",
    "SuppressionFile",
    "all_rules",
    "compliant",
    "load_suppressions",
    "not_applicable",
    "rule",
    "rules_of",
    "run_policies",
    "violation",
]
