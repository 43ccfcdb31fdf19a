"""Adding a cloud (docs/backends.md): a separate package brings a whole cloud, core unchanged.

``tests/unit/fixtures/fakecloud`` holds the package ``nimbus_mlops`` as pip would leave it
installed: the package and a ``.dist-info`` folder whose ``entry_points.txt`` registers it
in the ``mlops_infra.backends`` group. With that folder on the path, the ``mlops-infra``
command plans a nimbus stack (its backends, answered by its plan mocks), diffs two plans
(its replacement and stateful-type rules) and checks them (its policy pack), and nothing
under ``mlops_infra/`` names it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FAKECLOUD = REPO / "tests" / "unit" / "fixtures" / "fakecloud"

STACK: dict[str, Any] = {
    "config": {
        "mlops:cloud": "nimbus",
        "mlops:environment": "dev",
        "mlops:stack": {
            "region": "north",
            "artifact_store": {"options": {"zone": "north-1"}},
        },
    }
}


def _cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "components"), str(FAKECLOUD)])
    result = subprocess.run(
        [sys.executable, "-m", "mlops_infra.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a nimbus stack ``dev``, planned as base and, changed, as head."""
    root = tmp_path_factory.mktemp("nimbus")
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(STACK), encoding="utf-8")
    head = json.loads(json.dumps(STACK))
    head["config"]["mlops:stack"]["artifact_store"] = {
        "options": {"zone": "south-2"},  # nimbus replaces a bucket that changes zone
        "versioning": False,  # the nimbus pack's rule refuses this
    }
    (root / "head.yaml").write_text(yaml.safe_dump(head), encoding="utf-8")
    _cli("plan", "--stack", "dev", "--out", "base.json", cwd=root)
    _cli("plan", "--stack", "dev", "--stack-file", "head.yaml", "--out", "head.json", cwd=root)
    return root


def test_the_cloud_is_installed_through_its_entry_point(project: Path) -> None:
    listed = _cli("flavors", cwd=project).stdout
    assert "nimbus" in listed


def test_it_is_planned_with_its_backends_and_plan_mocks(project: Path) -> None:
    plan = json.loads((project / "base.json").read_text(encoding="utf-8"))
    (bucket,) = [r for r in plan["resources"] if r["type"] == "nimbus:storage:Bucket"]
    assert bucket["name"] == "mlops-store"
    # The name comes from an invoke only nimbus's plan mocks answer.
    assert bucket["inputs"]["name"] == "nimbus-0001-mlops-store"
    assert bucket["inputs"]["zone"] == "north-1"
    assert sorted(r["type"] for r in plan["resources"] if r["type"].startswith("nimbus:")) == [
        "nimbus:mlflow:Server",
        "nimbus:storage:Bucket",
    ]


def test_its_stateful_type_and_replacement_rule_drive_the_diff(project: Path) -> None:
    _cli(
        "diff",
        "base.json",
        "head.json",
        "--json",
        "diff.json",
        "--markdown",
        "diff.md",
        cwd=project,
    )
    diff = json.loads((project / "diff.json").read_text(encoding="utf-8"))
    component, change = diff["changes"]
    # The component registers its effective spec, so its changed option shows as an update.
    assert (component["type"], component["op"]) == ("mlops:index:ArtifactStore", "update")
    assert change["type"] == "nimbus:storage:Bucket"
    assert change["op"] == "replace"
    assert change["replace_reasons"] == ["zone"]
    assert change["stateful"] is True
    assert change["data_at_risk"] is True
    assert "mlops-store" in (project / "diff.md").read_text(encoding="utf-8")


def test_its_policy_pack_checks_the_plan(project: Path) -> None:
    listed = _cli("check", "--list", cwd=project).stdout
    assert "MLOPS-NIMBUS-BUCKET-001" in listed
    base = _cli("check", "--plan", "base.json", "--pack", "nimbus", "--format", "json", cwd=project)
    (base_report,) = json.loads(base.stdout)
    assert base_report["violations"] == []
    assert base_report["rules"][0]["rule"] == "MLOPS-NIMBUS-BUCKET-001"
    head = _cli(
        "check",
        "--plan",
        "head.json",
        "--pack",
        "nimbus",
        "--format",
        "json",
        cwd=project,
        check=False,
    )
    assert head.returncode == 1, head.stderr[-2000:]
    (head_report,) = json.loads(head.stdout)
    (finding,) = head_report["violations"]
    assert finding["rule"] == "MLOPS-NIMBUS-BUCKET-001"
    assert finding["message"] == "versioning is off; set artifact_store.versioning: true"


def test_nothing_in_the_library_names_the_cloud() -> None:
    for path in (REPO / "mlops_infra").rglob("*.py"):
        assert "nimbus" not in path.read_text(encoding="utf-8").lower(), path


def test_the_guide_shows_the_fixtures_code() -> None:
    guide = (REPO / "docs" / "backends.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n# (nimbus_mlops/\S+)\n(.*?)```", guide, flags=re.DOTALL)
    assert {name for name, _ in blocks} == {
        "nimbus_mlops/plugin.py",
        "nimbus_mlops/backends.py",
        "nimbus_mlops/policies.py",
        "nimbus_mlops/plan.py",
        "nimbus_mlops/testing.py",
    }
    for name, code in blocks:
        assert code in (FAKECLOUD / name).read_text(encoding="utf-8"), name
    entry_points = (FAKECLOUD / "nimbus_mlops-1.0.dist-info" / "entry_points.txt").read_text(
        encoding="utf-8"
    )
    assert "nimbus = nimbus_mlops.plugin:register" in entry_points
    assert 'nimbus = "nimbus_mlops.plugin:register"' in guide
