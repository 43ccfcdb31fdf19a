"""Interrupting `pulumi up` on the local stack (SIGINT and SIGKILL) at six points of a run:
`pulumi refresh` + `pulumi up` recover every time, with no hand edits to state and no
process left behind."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_infra.testing.engine import EngineHarness
from tests.integration.local_support import (
    configure,
    make_project,
    our_processes,
    post,
    serving_example,
    stack_spec,
    state_dir,
)

pytestmark = pytest.mark.integration

# (signal, the progress line to interrupt at, what to change so that the run gets there)
POINTS: list[tuple[signal.Signals, str, dict[str, Any]]] = [
    (signal.SIGKILL, "[mlops-tracking] starting mlflow server", {"tracking_workers": 2}),
    (signal.SIGINT, "step featurize started", {"c": 0.5}),
    (signal.SIGKILL, "step train started", {"c": 0.25}),
    (signal.SIGINT, "step register started", {"c": 0.125}),
    (signal.SIGKILL, "serving diagnosis version", {"c": 0.0625}),
    (signal.SIGINT, "[pipeline diagnosis] package of version", {"c": 0.03125}),
    (signal.SIGKILL, "[pipeline diagnosis] run ", {"c": 0.015625}),
]


def _spec(tracking_workers: int = 1, c: float = 1.0) -> dict[str, Any]:
    spec = stack_spec(c=c, threshold=0.5)
    spec["tracking"] = {"auth": False, "options": {"workers": tracking_workers}}
    return spec


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineHarness]:
    project = make_project(tmp_path_factory.mktemp("interrupts") / "project")
    engine = EngineHarness(
        project, "interrupts", config={"mlops:cloud": "local", "mlops:environment": "local"}
    )
    engine.init()
    configure(engine, _spec())
    engine.up()
    yield engine
    engine.close()


def _interrupted_up(engine: EngineHarness, marker: str, sig: signal.Signals) -> str:
    """Starts `pulumi up`, sends ``sig`` once ``marker`` appears in the progress log."""
    progress = state_dir(engine) / "progress.log"
    offset = progress.stat().st_size if progress.exists() else 0
    command = [
        *engine._command,
        "--non-interactive",
        "--color=never",
        "up",
        "--stack",
        engine.stack,
        "--yes",
        "--skip-preview",
    ]
    process = subprocess.Popen(
        command,
        cwd=engine.project_dir,
        env=engine.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            text = progress.read_text()[offset:] if progress.exists() else ""
            if marker in text:
                process.send_signal(sig)
                break
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"`up` ended before {marker!r}:\n{output[-3000:]}")
            time.sleep(0.05)
        else:
            pytest.fail(f"{marker!r} never appeared")
        output, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    return output.decode(errors="replace")


def _recover(engine: EngineHarness) -> None:
    # A killed CLI leaves its in-flight operations pending in the state; refresh reconciles
    # them with what really exists, then up finishes the job.
    engine.run(
        "refresh", "--stack", engine.stack, "--yes", "--skip-preview", "--clear-pending-creates"
    )
    engine.up()
    assert engine.preview().changes == ()


def _services(engine: EngineHarness) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for _, cmdline in our_processes(engine):
        if "mlflow server" in cmdline and "--backend-store-uri" in cmdline:
            kinds["tracking server"] += 1
        elif "mlflow models serve" in cmdline:
            kinds["model server"] += 1
        elif (
            "pulumi" in cmdline.split()[0]
            or "pulumi.dynamic" in cmdline
            or "runtime.step" in cmdline
        ):
            kinds["leftover: " + cmdline[:80]] += 1
    return kinds


@pytest.mark.parametrize(
    ("sig", "marker", "change"),
    POINTS,
    ids=[
        f"{sig.name}-at-{marker.strip('[] ').split(']')[-1].strip()[:24]}"
        for sig, marker, _ in POINTS
    ],
)
def test_interrupted_up_recovers(
    harness: EngineHarness, sig: signal.Signals, marker: str, change: dict[str, Any]
) -> None:
    configure(harness, _spec(**change))
    _interrupted_up(harness, marker, sig)
    _recover(harness)
    time.sleep(1)
    assert _services(harness) == Counter({"tracking server": 1, "model server": 1})
    outputs = harness.outputs()
    endpoint = outputs["endpoints"]["diagnosis"]
    assert endpoint["model_version"] == outputs["pipelines"]["diagnosis"]["model_version"]
    payload = serving_example(outputs["tracking_url"], "diagnosis", endpoint["model_version"])
    assert len(post(endpoint["url"], payload)["predictions"]) == 5


def test_no_process_outlives_destroy(harness: EngineHarness) -> None:
    harness.destroy()
    deadline = time.monotonic() + 10
    while our_processes(harness) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert our_processes(harness) == []
    assert (state_dir(harness) / "tracking").is_dir()
