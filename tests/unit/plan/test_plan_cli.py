"""`mlops-infra plan`, `diff` and `check` on the fixture projects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_infra.cli.main import main
from mlops_infra.plan import COMMENT_MARKER, Plan, dump_plan
from mlops_infra.policies import all_rules
from tests.unit.plan.planfix import CHURN


def _write(plan: Plan, path: Path) -> str:
    path.write_text(dump_plan(plan), encoding="utf-8")
    return str(path)


def test_diff_of_two_plan_files(
    base_plan: Plan, head_plan: Plan, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = (
        _write(base_plan, tmp_path / "base.json"),
        _write(head_plan, tmp_path / "head.json"),
    )
    out = tmp_path / "diff.json"
    assert (
        main(
            [
                "diff",
                base,
                head,
                "--project-dir",
                str(CHURN / "head"),
                "--json",
                str(out),
                "--markdown",
                "-",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out == (CHURN / "expected.md").read_text(encoding="utf-8")
    assert "1 STATEFUL REPLACEMENTS/DELETIONS" in captured.err
    data = json.loads(out.read_text(encoding="utf-8"))
    # The four component updates are their registered effective specs (and versions).
    assert data["counts"] == {"create": 0, "update": 8, "replace": 1, "delete": 0, "same": 5}
    assert [c["name"] for c in data["changes"] if c["data_at_risk"]] == ["mlops-store"]


def test_diff_without_marker_and_policies(
    base_plan: Plan, head_plan: Plan, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = (
        _write(base_plan, tmp_path / "base.json"),
        _write(head_plan, tmp_path / "head.json"),
    )
    assert main(["diff", base, head, "--no-marker", "--no-policies"]) == 0
    out = capsys.readouterr().out
    assert not out.startswith(COMMENT_MARKER)
    assert "#### Policies" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "only-one.json"], "give two plan files"),
        (["diff", "--base", "HEAD"], "--base needs --stack"),
    ],
)
def test_diff_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "HOME": str(repo.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CHURN / "base", repo)
    _git(repo, "init", "--quiet")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--no-verify", "--message", "base")
    shutil.rmtree(repo / "components")
    shutil.copytree(CHURN / "head" / "components", repo / "components")
    shutil.copy(CHURN / "head" / "stacks" / "Pulumi.dev.yaml", repo / "stacks" / "Pulumi.dev.yaml")
    shutil.copy(CHURN / "head" / "Pulumi.yaml", repo / "Pulumi.yaml")
    md = tmp_path / "diff.md"
    code = main(
        [
            "diff",
            "--base",
            "HEAD",
            "--stack",
            "dev",
            "--project-dir",
            str(repo),
            "--markdown",
            str(md),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert md.read_text(encoding="utf-8") == (CHURN / "expected.md").read_text(encoding="utf-8")
    assert not (repo / ".git" / "worktrees").exists() or not any(
        (repo / ".git" / "worktrees").iterdir()
    )


def test_a_stack_new_at_head_is_all_creates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CHURN / "head", repo)
    (repo / "stacks" / "Pulumi.dev.yaml").rename(repo / "stacks" / "Pulumi.later.yaml")
    _git(repo, "init", "--quiet")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--no-verify", "--message", "base")
    (repo / "stacks" / "Pulumi.later.yaml").rename(repo / "stacks" / "Pulumi.dev.yaml")
    assert (
        main(
            [
                "diff",
                "--base",
                "HEAD",
                "--stack",
                "dev",
                "--project-dir",
                str(repo),
                "--no-policies",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "**14 to create · 0 to update · 0 to replace · 0 to delete** · 0 unchanged" in out


def test_check_list_prints_one_rule_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(all_rules()) >= 40
    first = {line.split()[0] for line in lines}
    assert first == {rule.id for rule in all_rules()}
    assert any(
        line.startswith("MLOPS-AWS-S3-003") and line.endswith("[CKV_AWS_21]") for line in lines
    )


def test_check_passes_the_fixture_and_lists_by_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--stack", "dev", "--project-dir", str(CHURN / "head")]) == 0
    assert "dev: 9 rules applied, 9 passed, 0 violations, 0 suppressed" in capsys.readouterr().err
    assert main(["check", "--list", "--pack", "local"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def _broken_project(tmp_path: Path) -> Path:
    project = tmp_path / "broken"
    shutil.copytree(CHURN / "head", project)
    stack = project / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(
        stack.read_text(encoding="utf-8").replace(
            "model: churn\n", "model: churn\n        public: true\n"
        ),
        encoding="utf-8",
    )
    return project


def test_check_fails_on_a_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _broken_project(tmp_path)
    assert main(["check", "--project-dir", str(project), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(v["rule"], v["resource"]) for v in report[0]["violations"]] == [
        ("MLOPS-SERVE-001", "mlops-endpoint-churn")
    ]


def test_a_suppression_with_a_reason_accepts_the_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _broken_project(tmp_path)
    (project / "stacks" / "policy-suppressions.yaml").write_text(
        "version: 1\n"
        "suppressions:\n"
        "  - rule: MLOPS-SERVE-001\n"
        "    stack: dev\n"
        "    resource: mlops-endpoint-churn\n"
        "    reason: public demo endpoint behind the API gateway (TICKET-42)\n",
        encoding="utf-8",
    )
    assert main(["check", "--project-dir", str(project)]) == 0
    assert (
        "suppressed (public demo endpoint behind the API gateway (TICKET-42))"
        in capsys.readouterr().err
    )


def test_a_suppression_without_reason_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _broken_project(tmp_path)
    (project / "stacks" / "policy-suppressions.yaml").write_text(
        "suppressions:\n"
        "  - {rule: MLOPS-SERVE-001, stack: dev, resource: mlops-endpoint-churn, reason: ' '}\n",
        encoding="utf-8",
    )
    assert main(["check", "--project-dir", str(project)]) == 1
    assert "suppressions.0.reason" in capsys.readouterr().err


def test_plan_of_a_missing_stack_fails_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "nope", "--project-dir", str(CHURN / "head")]) == 1
    assert "Pulumi.nope.yaml" in capsys.readouterr().err
