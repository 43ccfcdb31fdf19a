"""`mlops-infra rehearse`: each cloud stack's generated pipeline, gate and serving contract run
here on emulators; faults fail naming the step; nothing is left running, Ctrl-C included.

Needs no Pulumi CLI and no cloud: moto (S3), a GCS emulator and Azurite stand in for the
object stores (see docs/rehearse.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlops_infra.mlflow_rest import ARTIFACT_CALLS, GATE_CALLS, WORKLOAD_CALLS

REPO = Path(__file__).resolve().parents[2]
STACKS = ["dev", "gcp-dev", "azure-dev"]
"""The cloud stacks rehearsed (one per cloud)."""

_FAULT_SCRIPT = """
import sys
from pathlib import Path
from mlops_infra.rehearse import Faults, RehearsalError, rehearse
faults = Faults(**{fields})
try:
    rehearse({stack!r}, project_dir=Path({repo!r}), out=sys.stdout, faults=faults)
except RehearsalError as error:
    print("FAILED", error)
    sys.exit(1)
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{REPO}{os.pathsep}{REPO / 'components'}"
    env["TMPDIR"] = str(tmp_path)
    return env


def _leftovers(marker: Path) -> list[str]:
    """Processes whose command line or working directory is inside ``marker``."""
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if cmdline and (str(marker) in cmdline or cwd.startswith(str(marker))):
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def _rehearse(
    tmp_path: Path, *argv: str, timeout: float = 1500
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_infra.cli", "rehearse", *argv],
        cwd=REPO, env=_environment(tmp_path), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_rehearse_prints_a_prediction_and_leaves_nothing_running(
    stack: str, tmp_path: Path
) -> None:
    done = _rehearse(tmp_path, "--stack", stack)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # Every step of the generated definition ran, in its order (evaluate reads featurize's
    # outputs: before the wiring fix it failed with "has no input from 'featurize'").
    ran = [line.split()[3].rstrip(":") for line in lines if ": ok in " in line]
    assert ran[:4] == ["featurize", "train", "evaluate", "register"]
    assert any("gate " in line and ": promoted:" in line for line in lines)
    assert any(": prediction [" in line for line in lines)
    assert _leftovers(tmp_path) == []
    if stack == "dev":
        _assert_recorded_calls_are_the_documented_ones(lines)


def _assert_recorded_calls_are_the_documented_ones(lines: list[str]) -> None:
    """The MLflow calls rehearse recorded are exactly the sets the roles are derived from
    (mlflow_rest): a new call fails here (and, ungranted, in rehearse), an unused one too."""
    recorded: dict[str, set[str]] = {}
    for line in lines:
        caller, marker, calls = line.partition(": MLflow calls ")
        if marker:
            name = caller.split("] ", 1)[1]
            recorded[name] = {c for c in calls.split(", ") if c != "none"} - ARTIFACT_CALLS
    steps = set[str]().union(*(v for k, v in recorded.items() if not k.startswith("gate ")))
    gates = set[str]().union(*(v for k, v in recorded.items() if k.startswith("gate ")))
    assert sorted(steps) == sorted(WORKLOAD_CALLS)
    assert sorted(gates) == sorted(GATE_CALLS)


# A contract name each cloud's step reads: the step hyperparameter (SageMaker), the step
# variable (Vertex AI), the data input the command binds (Azure ML).
_CONTRACT_VARIABLE = {
    "dev": "mlops_step",
    "gcp-dev": "MLOPS_STEP",
    "azure-dev": "data_breast_cancer",
}
_MISNAMED = {
    "dev": "KeyError: 'mlops_step'",
    "gcp-dev": "KeyError: 'MLOPS_STEP'",
    "azure-dev": "the command uses ${{inputs.data_breast_cancer}} but the job binds inputs",
}
_FAULTS = [
    (stack, fields, step, missing)
    for stack in STACKS
    for fields, step, missing in [
        ({"drop_input": ("train", "featurize")}, "train", "has no input from 'featurize'"),
        ({"rename_variable": (_CONTRACT_VARIABLE[stack], "MISNAMED")}, "featurize",
         _MISNAMED[stack]),
        ({"serving_drop_requirement": "scikit-learn"}, "serve mlops-endpoint-diagnosis",
         "No module named 'sklearn'"),
    ]
] + [
    # AWS checks each step's recorded MLflow calls against its generated IAM role.
    ("dev", {"revoke_action": "sagemaker-mlflow:CreateExperiment"}, "featurize",
     "CreateExperiment needs sagemaker-mlflow:CreateExperiment"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "fields", "step", "missing"), _FAULTS)
def test_faults_fail_naming_the_step_and_what_is_missing(
    stack: str, fields: dict[str, object], step: str, missing: str, tmp_path: Path
) -> None:
    script = _FAULT_SCRIPT.format(fields=fields, stack=stack, repo=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=_environment(tmp_path),
        capture_output=True, text=True, timeout=1500, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    failure = done.stdout[done.stdout.index("FAILED") :]
    assert f"step {step!r}" in failure
    assert missing in failure
    assert _leftovers(tmp_path) == []


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "mlops_infra.cli", "rehearse", "--stack", "dev"],
        cwd=REPO, env=_environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert child.stdout is not None
    seen: list[str] = []
    for line in child.stdout:  # interrupt while the first step's container runs
        seen.append(line)
        if "pipeline " in line and "execution" in line:
            break
    time.sleep(3)
    assert _leftovers(tmp_path), "the step should be running"
    child.send_signal(signal.SIGINT)
    rest, _ = child.communicate(timeout=120)
    assert child.returncode == 130, "".join(seen) + rest
    assert "interrupted" in rest
    assert _leftovers(tmp_path) == []
