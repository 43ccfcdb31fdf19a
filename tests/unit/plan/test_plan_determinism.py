"""`plan` of the same commit is byte-identical: twice in a row, in another folder, via the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_infra.cli.main import main
from mlops_infra.plan import Plan, dump_plan, load_plan
from tests.unit.plan.planfix import CHURN, plan_churn


def test_twice_in_a_row_is_byte_identical(head_plan: Plan) -> None:
    assert dump_plan(plan_churn("head")) == dump_plan(head_plan)


def test_another_checkout_folder_gives_the_same_bytes(head_plan: Plan, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(CHURN / "head", copy)
    assert dump_plan(plan_churn("head", copy)) == dump_plan(head_plan)


def test_plan_file_round_trips(head_plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "dev.plan.json"
    path.write_text(dump_plan(head_plan), encoding="utf-8")
    assert dump_plan(load_plan(path)) == dump_plan(head_plan)


def test_plan_is_sorted_and_masked(head_plan: Plan) -> None:
    text = dump_plan(head_plan)
    assert [r.urn for r in head_plan.resources] == sorted(r.urn for r in head_plan.resources)
    assert "__provider" not in text
    assert "<project>/.mlops/dev/artifacts-v2" in text
    assert '"python": "<python>"' in text


def test_plan_records_options_and_manifests(head_plan: Plan) -> None:
    store = next(r for r in head_plan.resources if r.name == "mlops-store" and r.custom)
    assert store.options()["protect"] is False
    tracking = next(r for r in head_plan.resources if r.name == "mlops-tracking" and r.custom)
    assert tracking.additional_secret_outputs == ("admin_password", "password")
    steps = head_plan.ml["pipelines"]["churn"]["steps"]
    order = head_plan.ml["pipelines"]["churn"]["order"]
    assert order == ["featurize", "train", "calibrate", "evaluate", "register"]
    assert steps["train"]["files"] == [
        "churn/__init__.py",
        "churn/features.py",
        "churn/requirements.txt",
        "churn/train.py",
    ]
    assert set(head_plan.ml["pipelines"]["churn"]["code"]) >= {"churn/calibrate.py"}


@pytest.mark.parametrize("side", ["base", "head"])
def test_cli_plan_twice_gives_identical_files(side: str, tmp_path: Path) -> None:
    project = str(CHURN / side)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert main(["plan", "--stack", "dev", "--project-dir", project, "--out", str(first)]) == 0
    assert main(["plan", "--stack", "dev", "--project-dir", project, "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().endswith(b"}\n")
