"""Every example stack (stacks/Pulumi.*.yaml) passes every applicable policy by default.

Each stack is planned offline with the installed backends, like ``mlops-infra check``;
the table of rules applied and passed per stack is printed (``-s`` is not needed). Each
is planned twice, and the two plans must be byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_infra.plan import dump_plan, plan_stack_file
from mlops_infra.policies import (
    SUPPRESSIONS_FILE,
    PolicyReport,
    all_rules,
    load_suppressions,
    run_policies,
)
from tests.unit.plan.planfix import REPO

STACK_FILES = sorted((REPO / "stacks").glob("Pulumi.*.yaml"))


def _table(report: PolicyReport) -> str:
    rows = [t for t in report.tallies() if t.applied]
    width = max((len(t.rule.id) for t in rows), default=4)
    lines = [
        f"stack {report.stack}: {len(rows)} rules applied, "
        f"{sum(1 for t in rows if t.failed == 0)} passed, {len(report.violations)} violations",
        f"  {'rule':<{width}}  applied  passed  failed  suppressed",
    ]
    lines += [
        f"  {t.rule.id:<{width}}  {t.applied:>7}  {t.passed:>6}  {t.failed:>6}  {t.suppressed:>10}"
        for t in rows
    ]
    return "\n".join(lines)


def test_there_are_example_stacks() -> None:
    assert STACK_FILES, "no stacks/Pulumi.*.yaml"


# pulumi_gcp.compute warns about its own deprecated aliases when it is imported.
@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_example_stack_passes_every_applicable_policy(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = plan_stack_file(path, project_dir=REPO)
    suppressions = load_suppressions(
        REPO / "stacks" / SUPPRESSIONS_FILE, [r.id for r in all_rules()]
    )
    report = run_policies(plan, suppressions=suppressions)
    with capsys.disabled():
        print("\n" + _table(report))
    assert [t for t in report.tallies() if t.applied], "no rule applied"
    problems = [f"{f.rule.id} {f.resource.name}: {f.outcome.message}" for f in report.violations]
    assert not problems, "\n".join(problems)
    assert dump_plan(plan_stack_file(path, project_dir=REPO)) == dump_plan(plan)
