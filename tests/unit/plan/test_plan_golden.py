"""Golden diff between the churn fixture's two commits.

Head changes four things against base: the GPU size of cluster ``gpu`` (1 -> 4 x a10g),
a new pipeline step (``calibrate``) plus an edited component (``churn/train.py``), a gate
threshold (accuracy 0.9 -> 0.92), and the artifact store's folder (a bucket rename).

Regenerate the golden files after an intended change with:

    MLOPS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/plan/test_plan_golden.py \
        -p no:cacheprovider

and review the diff of tests/fixtures/plan/churn/expected.* before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_infra.plan import Op, Plan, PlanDiff, diff_plans, render_json, render_markdown
from mlops_infra.policies import run_policies
from tests.unit.plan.planfix import CHURN

UPDATE = os.environ.get("MLOPS_UPDATE_GOLDEN") == "1"

EXPECTED_OPS = {
    ("mlops-store", "pulumi-python:dynamic/mlops:LocalStoreDirectory"): Op.REPLACE,
    ("mlops-tracking", "pulumi-python:dynamic/mlops:LocalMlflowServer"): Op.UPDATE,
    ("mlops-cluster-gpu", "pulumi-python:dynamic/mlops:LocalSlots"): Op.UPDATE,
    ("mlops-pipeline-churn", "pulumi-python:dynamic/mlops:LocalPipeline"): Op.UPDATE,
    ("mlops-endpoint-churn-gate", "pulumi-python:dynamic/mlops:PromotionDecision"): Op.UPDATE,
    # Components register their effective specs (and pipelines their versions) as inputs.
    ("mlops-store", "mlops:index:ArtifactStore"): Op.UPDATE,
    ("mlops-cluster-gpu", "mlops:index:TrainingCluster"): Op.UPDATE,
    ("mlops-pipeline-churn", "mlops:index:Pipeline"): Op.UPDATE,
    ("mlops-endpoint-churn", "mlops:index:ServingEndpoint"): Op.UPDATE,
}


@pytest.fixture(scope="module")
def diff(base_plan: Plan, head_plan: Plan) -> PlanDiff:
    return diff_plans(base_plan, head_plan)


def _golden(name: str, actual: str) -> None:
    path = CHURN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; see the module docstring to regenerate"


def test_exactly_the_expected_operations(diff: PlanDiff) -> None:
    assert {(c.name, c.type): c.op for c in diff.changes} == EXPECTED_OPS


def test_the_bucket_rename_is_a_stateful_replacement(diff: PlanDiff) -> None:
    assert [(c.name, c.op, c.replace_reasons) for c in diff.loud] == [
        ("mlops-store", Op.REPLACE, ("path",))
    ]


def test_changed_input_paths(diff: PlanDiff) -> None:
    by_name = {c.name: c for c in diff.changes}
    assert by_name["mlops-cluster-gpu"].changed == ("gpus_per_node",)
    assert by_name["mlops-endpoint-churn-gate"].changed == ("gate.conditions[0].threshold",)
    assert by_name["mlops-tracking"].changed == ("store_path",)
    assert 'manifest.code["churn/calibrate.py"]' in by_name["mlops-pipeline-churn"].changed


def test_ml_section_in_plain_words(diff: PlanDiff, base_plan: Plan, head_plan: Plan) -> None:
    lines = [change.text() for change in diff.ml]
    old = base_plan.ml["pipelines"]["churn"]["version"][:8]
    new = head_plan.ml["pipelines"]["churn"]["version"][:8]
    assert lines == [
        f"pipeline `churn` `{old}…` → `{new}…`: step `calibrate` added (component "
        "`churn.calibrate`); component `churn.train` of step `train` changed: `churn/train.py`; "
        "step `evaluate` depends on `calibrate` (was `train`)",
        "endpoint `churn`: gate `accuracy >= 0.9` → `accuracy >= 0.92`",
        "cluster `gpu`: 1 x a10g → 4 x a10g per node",
    ]


def test_markdown_matches_the_golden_file(diff: PlanDiff, base_plan: Plan, head_plan: Plan) -> None:
    digest = run_policies(head_plan).digest(run_policies(base_plan))
    _golden("expected.md", render_markdown(diff, digest))


def test_json_matches_the_golden_file(diff: PlanDiff, base_plan: Plan, head_plan: Plan) -> None:
    digest = run_policies(head_plan).digest(run_policies(base_plan))
    _golden("expected.json", render_json(diff, digest))


def test_no_machine_paths_in_the_outputs(diff: PlanDiff) -> None:
    text = render_json(diff) + render_markdown(diff)
    assert str(Path(CHURN).resolve()) not in text
    assert "/work/" not in text
    assert "/home/" not in text
