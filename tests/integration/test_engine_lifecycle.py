"""The real engine on a Pulumi.yaml program: CLI, Python language host, dynamic provider."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_infra.testing.engine import EngineHarness, LifecycleError

PROGRAM = Path(__file__).resolve().parent / "programs" / "dynamic_only"

pytestmark = pytest.mark.integration


def test_lifecycle_update_in_place_and_replace(
    engine_harness: Callable[..., EngineHarness], tmp_path: Path
) -> None:
    files = tmp_path / "files"
    harness = engine_harness(PROGRAM, "lifecycle", config={"directory": str(files)})
    seen: dict[str, str] = {}

    def edit(engine: EngineHarness) -> None:
        seen.update((p.name, p.read_text()) for p in files.iterdir())
        engine.set_config("greeting", "bonjour")
        engine.set_config("dataName", "data-v2.txt")

    report = harness.run_lifecycle(
        edit,
        expect={"bundle-greeting": "update", "bundle-data": "replace", "bundle": "same"},
    )

    assert seen == {"greeting.txt": "hello", "data-v1.txt": "data\n"}
    assert report.stages["up"].ops() == {
        "dynamic-only-lifecycle": "create",
        "bundle": "create",
        "bundle-greeting": "create",
        "bundle-data": "create",
    }
    (greeting,) = report.stages["preview-after-edit"].find("bundle-greeting")
    assert greeting.changed == ("content",)
    (data,) = report.stages["preview-after-edit"].find("bundle-data")
    assert data.replace_reasons == ("filename",)
    assert report.stages["up-after-edit"].ops()["bundle-data"] == "replace"
    # The parent chain is in the URN: the dynamic resources are children of the component.
    assert "mlopstest:index:FileBundle$pulumi-python:dynamic:Resource::bundle-data" in data.urn
    assert list(files.iterdir()) == []  # destroy deleted the files
    assert report.stages["destroy"].change_summary == {"delete": 4}


def test_outputs_secrets_and_drift(
    engine_harness: Callable[..., EngineHarness], tmp_path: Path
) -> None:
    files = tmp_path / "files"
    harness = engine_harness(
        PROGRAM, "drift", config={"directory": str(files)}, secrets={"token": "s3cr3t"}
    )
    harness.up()
    outputs = harness.outputs()
    assert outputs == {
        "greetingPath": str(files / "greeting.txt"),
        "dataPath": str(files / "data-v1.txt"),
    }
    assert (files / "greeting.txt").read_text() == "hello"
    state = {r.name: r for r in harness.stack_resources()}
    assert state["bundle-greeting"].parent == state["bundle"].urn

    (files / "greeting.txt").write_text("edited by hand")
    (files / "data-v1.txt").unlink()
    refresh = harness.refresh()
    assert refresh.ops()["bundle-greeting"] == "update"
    assert refresh.ops()["bundle-data"] == "delete"
    (greeting,) = refresh.find("bundle-greeting")
    assert greeting.changed == ("content",)

    # The next up repairs the drift: the content is written back, the lost file re-created.
    up = harness.up()
    assert up.ops()["bundle-greeting"] == "update"
    assert up.ops()["bundle-data"] == "create"
    assert (files / "greeting.txt").read_text() == "hello"
    harness.destroy()
    assert harness.stack_resources() == []


def test_failure_lists_operations(
    engine_harness: Callable[..., EngineHarness], tmp_path: Path
) -> None:
    harness = engine_harness(PROGRAM, "broken")  # `directory` is required and missing
    with pytest.raises(LifecycleError) as raised:
        harness.preview()
    message = str(raised.value)
    assert "pulumi preview" in message
    assert "directory" in message  # the engine's complaint about the missing config value
