"""Non-breaking spec changes update in place; no stateful resource is ever replaced.

Each case plans the prod example stack before and after one edit (offline, with the
project's plan/diff, which knows the provider's force-new arguments) and compares URNs,
ids and inputs resource by resource.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mlops_infra import load_stack_file
from mlops_infra.plan.build import plan_stack
from mlops_infra.plan.diff import Op, PlanDiff, diff_plans
from mlops_infra.plan.model import Plan
from mlops_infra.specs import StackSpec

from .helpers import REPO, STACKS, aws_registry

Edit = Callable[[dict[str, Any]], None]


def _plan(spec: StackSpec) -> Plan:
    return plan_stack(spec, stack="prod", project_dir=REPO, registry=aws_registry())


@pytest.fixture(scope="module")
def base() -> tuple[dict[str, Any], Plan]:
    spec = load_stack_file(STACKS / "Pulumi.prod.yaml", registry=aws_registry())
    return spec.model_dump(mode="json", exclude_unset=True), _plan(spec)


def _diff(base: tuple[dict[str, Any], Plan], edit: Edit) -> PlanDiff:
    data = copy.deepcopy(base[0])
    edit(data)
    head = StackSpec.model_validate(data, context={"registry": aws_registry()})
    return diff_plans(base[1], _plan(head))


def _max_replicas(data: dict[str, Any]) -> None:
    data["endpoints"][0]["max_replicas"] = 9


def _lifecycle_days(data: dict[str, Any]) -> None:
    data["artifact_store"]["lifecycle"][0]["expire_after_days"] = 30
    data["artifact_store"]["noncurrent_version_days"] = 400


def _tags(data: dict[str, Any]) -> None:
    data["tags"] = {**data["tags"], "owner": "ml-platform@example.com"}


def _target_concurrency(data: dict[str, Any]) -> None:
    data["endpoints"][0]["target_concurrency"] = 40


CASES: dict[str, tuple[Edit, set[tuple[str, str]], str | None]] = {
    "autoscaling max": (
        _max_replicas,
        {
            (
                "pulumi-python:dynamic/mlops:SageMakerDeployment",
                "mlops-endpoint-diagnosis-deployment",
            )
        },
        "scaling",
    ),
    "lifecycle days": (
        _lifecycle_days,
        {
            (
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "mlops-store-lifecycle",
            )
        },
        "rules",
    ),
    "scaling target": (
        _target_concurrency,
        {
            (
                "pulumi-python:dynamic/mlops:SageMakerDeployment",
                "mlops-endpoint-diagnosis-deployment",
            )
        },
        "scaling",
    ),
    "tags": (_tags, set(), None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_non_breaking_change_updates_in_place(base: tuple[dict[str, Any], Plan], case: str) -> None:
    edit, expected, field = CASES[case]
    diff = _diff(base, edit)
    before = {r.urn: r for r in diff.base.resources}
    after = {r.urn: r for r in diff.head.resources}
    assert before.keys() == after.keys()  # same URNs: nothing created, deleted or renamed
    assert {c.op for c in diff.changes} <= {Op.UPDATE}
    assert not diff.loud
    updated = {(c.type, c.name) for c in diff.changes}
    if field is None:
        # Tags reach every taggable resource, and only as tags.
        assert updated
        changed = [p for c in diff.changes for p in c.changed]
        assert all(p.startswith(("tags", "tagsAll")) or ".tags" in p for p in changed), changed
    else:
        # A component registers its effective spec: the edit shows there too, as spec input.
        assert {(c.type, c.name) for c in diff.changes if c.custom} == expected
        assert all(p.startswith(field) for c in diff.changes if c.custom for p in c.changed)
        assert all(p.startswith("spec.") for c in diff.changes if not c.custom for p in c.changed)
    for urn, old in before.items():
        new = after[urn]
        if old.protect or old.retain_on_delete:
            # Stateful resources: same inputs apart from tags, same protection.
            untagged = {k: v for k, v in old.inputs.items() if k not in ("tags", "tagsAll")}
            assert untagged == {k: v for k, v in new.inputs.items() if k not in ("tags", "tagsAll")}
            assert (new.protect, new.retain_on_delete) == (old.protect, old.retain_on_delete)


def test_a_breaking_change_is_reported_as_a_replacement(base: tuple[dict[str, Any], Plan]) -> None:
    def rename(data: dict[str, Any]) -> None:
        data["artifact_store"]["bucket_name"] = "renamed-bucket-123"

    diff = _diff(base, rename)
    replaced = {(c.type, c.name) for c in diff.loud}
    assert ("aws:s3/bucket:Bucket", "mlops-store") in replaced
    bucket = next(c for c in diff.loud if c.name == "mlops-store" and c.custom)
    assert bucket.protected  # and Pulumi refuses it in prod until protect is lifted
