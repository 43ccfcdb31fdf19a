"""`mlops-infra validate`, `schema` and `flavors`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlops_infra.cli.main import main

REPO = Path(__file__).resolve().parents[3]

INVALID = """\
config:
  mlops:cloud: aws
  mlops:environment: dev
  mlops:stack:
    clusters:
      - {name: training, gpu: a10}
    pipelines:
      - name: p
        steps:
          - {name: train, component: x.train, depends_on: [prep]}
"""


def test_validate_every_stack_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["validate"]) == 0
    err = capsys.readouterr().err
    assert (
        "stacks/Pulumi.local.yaml: ok (local/local: 1 clusters, 0 jobs, 1 pipelines, 1 endpoints)"
        in err
    )


def test_validate_prints_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(INVALID)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert (
        f"{path}: mlops:stack.clusters[training].gpu: 'a10' is not a known GPU; known: a100-40gb, a100-80gb, a10g, h100, h200, l4, l40s, t4, v100"
        in lines
    )
    assert any(
        line.startswith(
            f"{path}: mlops:stack.pipelines[p].steps[train].depends_on[0]: step 'train' depends on 'prep'"
        )
        for line in lines
    )
    assert "problem(s) in 1 file(s)" in out.err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2]\n", "config: must be a mapping"),
        (
            "config:\n  mlops:cloud: local\n  mlops:cloud: aws\n",
            "invalid YAML at line 3, column 3: duplicate key 'mlops:cloud'",
        ),
        (
            "config:\n  mlops:cloud: [\n",
            "invalid YAML at line 3, column 1: expected the node content",
        ),
        ("config:\n  mlops:stack: {}\n  mlops:typo: 1\n", "mlops:typo: unknown config key"),
        (
            "config:\n  mlops:stack:\n    tracking: {admin_password_config_key: trackingPassword}\n",
            "mlops:trackingPassword: is referenced by the spec but not set; run: pulumi config set --secret",
        ),
        (
            "config:\n  mlops:stack:\n    tracking: {admin_password_config_key: trackingPassword}\n"
            "  mlops:trackingPassword: hunter2\n",
            "mlops:trackingPassword: holds a plaintext value",
        ),
    ],
)
def test_validate_file_level_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    assert message in capsys.readouterr().out


def test_secret_reference_with_encrypted_value_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        "config:\n  mlops:stack:\n    tracking: {admin_password_config_key: trackingPassword}\n"
        "  mlops:trackingPassword:\n    secure: v1:abc\n"
    )
    assert main(["validate", str(path)]) == 0


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read: No such file or directory" in capsys.readouterr().out


def test_flavors_lists_clouds_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flavors", "--cloud", "local"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("local: this machine")
    assert "  tracking_server   mlflow (default): mlflow server process" in out


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "mlops-infra"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "validate" in result.stdout
    assert "schema" in result.stdout


_PARSE_PLAN = """
import importlib, json, sys
parser = importlib.import_module("mlops_infra.cli.main").build_parser()
parser.parse_args(["plan", "--stack", "dev"])
print(json.dumps(sorted(m for m in sys.modules if "policies" in m)))
"""


def test_parsing_a_plan_command_imports_no_policy() -> None:
    """``plan`` runs in a fresh process per stack in CI: the policies are not its cost."""
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_PLAN], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_pack_choices_are_checked_and_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--pack", "nope"])
    assert "invalid choice: 'nope' (choose from 'mlops', 'aws'" in capsys.readouterr().err
