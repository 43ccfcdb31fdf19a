"""The CI workflows: the PR workflow needs no secrets, the comment job runs no PR code,
prod deploys wait for an approval, and actionlint passes (when it is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.plan.planfix import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def _load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return data


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    return triggers  # YAML 1.1 reads the key `on` as True


def test_pull_request_workflow_needs_no_secrets_and_reads_only() -> None:
    text = (WORKFLOWS / "infra-plan.yml").read_text(encoding="utf-8")
    workflow = _load("infra-plan.yml")
    assert set(_on(workflow)) == {"pull_request"}
    assert "secrets." not in text
    assert "pull_request_target" not in text
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    assert "mlops-infra diff" in text
    assert "mlops-infra check" in text


def test_comment_job_runs_no_pull_request_code() -> None:
    text = (WORKFLOWS / "infra-plan-comment.yml").read_text(encoding="utf-8")
    workflow = _load("infra-plan-comment.yml")
    assert _on(workflow) == {"workflow_run": {"workflows": ["infra-plan"], "types": ["completed"]}}
    assert "actions/checkout" not in text
    assert "pip install" not in text
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["comment"]["permissions"] == {
        "actions": "read",
        "pull-requests": "write",
    }


def test_trusted_previews_and_gated_prod_deploys() -> None:
    preview = _load("infra-preview.yml")
    assert "head.repo.full_name == github.repository" in preview["jobs"]["stacks"]["if"]
    assert preview["jobs"]["preview"]["with"]["command"] == "preview"
    deploy = _load("infra-deploy.yml")
    assert _on(deploy) == {"push": {"branches": ["main"]}}
    assert deploy["jobs"]["prod"]["with"] == {
        "command": "up",
        "stack": "${{ matrix.stack }}",
        "cloud": "${{ matrix.cloud }}",
        "environment": "prod",
    }
    assert deploy["jobs"]["prod"]["needs"] == ["stacks", "staging"]
    stack = (WORKFLOWS / "pulumi-stack.yml").read_text(encoding="utf-8")
    assert "uses: pulumi/actions@v6" in stack
    assert "policyPacks: policy" in stack


def _actionlint() -> str | None:
    candidates = [os.environ.get("ACTIONLINT"), shutil.which("actionlint")]
    gopath = Path(os.environ.get("GOPATH", Path.home() / "go"))
    candidates.append(str(gopath / "bin" / "actionlint"))
    return next((c for c in candidates if c and Path(c).is_file()), None)


def test_actionlint_passes() -> None:
    binary = _actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (set ACTIONLINT=/path/to/actionlint)")
    result = subprocess.run(
        [binary, "-no-color"], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
