"""AWS bucket rename (the AWS backend under mocks): a protected, stateful replacement."""

from __future__ import annotations

import pytest

from mlops_infra.plan import Op, Plan, diff_plans, plan_stack_file, render_markdown
from tests.unit.plan.planfix import FIXTURES

RENAME = FIXTURES / "aws-rename"


def _plan(side: str) -> Plan:
    root = RENAME / side
    return plan_stack_file(root / "stacks" / "Pulumi.prod.yaml", project_dir=root)


@pytest.fixture(scope="module")
def plans() -> tuple[Plan, Plan]:
    return _plan("base"), _plan("head")


def test_renaming_the_bucket_replaces_it_and_nothing_else(plans: tuple[Plan, Plan]) -> None:
    diff = diff_plans(*plans)
    assert [(c.name, c.type, c.op, c.replace_reasons) for c in diff.changes] == [
        # The component registers its effective spec: its bucket_name input changed.
        ("mlops-store", "mlops:index:ArtifactStore", Op.UPDATE, ()),
        ("mlops-store", "aws:s3/bucket:Bucket", Op.REPLACE, ("bucket",)),
    ]
    (change,) = diff.loud
    assert change.stateful
    assert change.protected


def test_the_markdown_says_so_loudly(plans: tuple[Plan, Plan]) -> None:
    text = render_markdown(diff_plans(*plans))
    assert "> [!CAUTION]" in text
    assert (
        "> - **REPLACE** `mlops-store` (`aws:s3/bucket:Bucket`) because `bucket` changed; "
        "it is **protected**, so `pulumi up` refuses until `protect` is lifted"
    ) in text
    assert "| ± replace ⚠ | `mlops-store` | `aws s3.Bucket` | **`bucket`** |" in text
