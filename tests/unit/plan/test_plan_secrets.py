"""A canary secret never appears in a plan, a diff (Markdown or JSON), a log or an output.

Two ways a secret reaches the program are covered: a ``secure:`` value in the stack file
(whose ciphertext must not leak, and which is never decrypted), and a plain value handed
to the program directly (whose every use must be masked).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from mlops_infra.cli.main import main
from mlops_infra.plan import (
    Plan,
    diff_plans,
    dump_plan,
    plan_stack,
    render_json,
    render_markdown,
)
from mlops_infra.policies import run_policies
from mlops_infra.specs import StackSpec
from tests.unit.plan.planfix import FIXTURES, offline_registry

CANARY = "canary-5EC2E7-do-not-print"
CIPHERTEXT = "CANARY-CIPHERTEXT-7f3c2a9e"
SECRETS = FIXTURES / "secrets"


def _spec(cloud: str) -> StackSpec:
    data = {
        "cloud": cloud,
        "environment": "prod",
        "tracking": {"admin_password_config_key": "trackingAdminPassword"},
        "clusters": [{"name": "cpu", "max_nodes": 1}],
    }
    return StackSpec.model_validate(data, context={"registry": offline_registry()})


def _plan(cloud: str, tmp_path: Path) -> Plan:
    return plan_stack(
        _spec(cloud),
        stack="prod",
        project_dir=tmp_path,
        registry=offline_registry(),
        secrets={"trackingAdminPassword": CANARY},
    )


def _everything(plan: Plan, other: Plan) -> str:
    diff = diff_plans(other, plan)
    digest = run_policies(plan).digest()
    return "\n".join(
        [
            dump_plan(plan),
            render_markdown(diff, digest),
            render_json(diff, digest),
            json.dumps(plan.outputs),
        ]
    )


@pytest.mark.parametrize("cloud", ["fake", "local"])
def test_a_secret_given_to_the_program_is_masked_everywhere(
    cloud: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    plan = _plan(cloud, tmp_path)
    empty = Plan.empty(plan.project, plan.stack, plan.facts)
    text = _everything(plan, empty)
    captured = capfd.readouterr()
    assert CANARY not in text
    assert CANARY not in captured.out + captured.err
    assert CANARY not in caplog.text
    assert "[secret]" in dump_plan(plan)  # masked where it was used, not merely absent


def test_fake_tracking_server_password_is_masked(tmp_path: Path) -> None:
    plan = _plan("fake", tmp_path)
    server = next(r for r in plan.resources if r.type == "fake:index:TrackingServer")
    assert server.inputs["adminPassword"] == "[secret]"
    assert plan.secret_config == {"mlops:trackingAdminPassword": "set"}


def test_local_tracking_server_password_is_masked(tmp_path: Path) -> None:
    plan = _plan("local", tmp_path)
    server = next(
        r for r in plan.resources if r.type == "pulumi-python:dynamic/mlops:LocalMlflowServer"
    )
    assert server.inputs["admin_password"] == "[secret]"


def test_secure_config_is_never_decrypted_nor_printed(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    project = str(SECRETS)
    plan_file = tmp_path / "dev.plan.json"
    assert main(["plan", "--stack", "dev", "--project-dir", project, "--out", str(plan_file)]) == 0
    md, js = tmp_path / "diff.md", tmp_path / "diff.json"
    code = main(
        [
            "diff",
            str(plan_file),
            str(plan_file),
            "--project-dir",
            project,
            "--markdown",
            str(md),
            "--json",
            str(js),
        ]
    )
    assert code == 0
    assert main(["check", "--plan", str(plan_file), "--project-dir", project]) == 0
    captured = capfd.readouterr()
    for text in (
        plan_file.read_text(encoding="utf-8"),
        md.read_text(encoding="utf-8"),
        js.read_text(encoding="utf-8"),
        captured.out,
        captured.err,
        caplog.text,
    ):
        assert CIPHERTEXT not in text
    data = json.loads(plan_file.read_text(encoding="utf-8"))
    fingerprint = data["secret_config"]["mlops:trackingAdminPassword"]
    assert fingerprint.startswith("sha256:")
    server = next(r for r in data["resources"] if r["name"] == "mlops-tracking" and r["custom"])
    assert server["inputs"]["admin_password"] == "[secret]"
