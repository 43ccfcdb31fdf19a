"""Local backend building blocks: processes, GPUs, retention, immutable packages."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from mlops_infra.backends.local.gpus import LocalGpu, assign_gpus, detect_gpus
from mlops_infra.backends.local.packages import (
    ImmutableVersionError,
    publish_package,
    read_manifest,
)
from mlops_infra.backends.local.process import (
    find_free_port,
    is_alive,
    port_is_free,
    read_record,
    start_process,
    stop_process,
)
from mlops_infra.backends.local.retention import MARKER, apply_retention, write_marker
from mlops_infra.errors import BackendError
from mlops_infra.specs import PipelineSpec
from mlops_infra.versioning import pipeline_manifest

FAKE_SMI = """#!/bin/sh
echo "0, NVIDIA A100-SXM4-80GB, 81920"
echo "1, NVIDIA A100-SXM4-80GB, 81920"
"""


@pytest.fixture
def fake_nvidia_smi(tmp_path: Path) -> Path:
    path = tmp_path / "nvidia-smi"
    path.write_text(FAKE_SMI)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_gpus_are_detected_with_nvidia_smi(fake_nvidia_smi: Path) -> None:
    assert detect_gpus(str(fake_nvidia_smi)) == [
        LocalGpu(0, "NVIDIA A100-SXM4-80GB", 81920),
        LocalGpu(1, "NVIDIA A100-SXM4-80GB", 81920),
    ]


def test_gpus_found_on_path(fake_nvidia_smi: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_nvidia_smi.parent}{os.pathsep}{os.environ['PATH']}")
    assert [g.index for g in detect_gpus()] == [0, 1]


def test_no_nvidia_smi_means_no_gpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpus() == []


@pytest.mark.parametrize(
    ("wanted", "available", "devices", "note"),
    [
        (0, 2, "", "cpu"),
        (1, 2, "0", "gpu 0:gpu"),
        (2, 2, "0,1", "gpu 0:gpu, 1:gpu"),
        (4, 2, "", "cpu fallback: 4 GPU(s) wanted, 2 detected"),
        (1, 0, "", "cpu fallback: 1 GPU(s) wanted, 0 detected"),
    ],
)
def test_gpu_assignment(wanted: int, available: int, devices: str, note: str) -> None:
    gpus = [LocalGpu(i, "gpu", 1) for i in range(available)]
    assert assign_gpus(wanted, gpus) == (devices, note)


def test_managed_process_lifecycle(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "p.pid", tmp_path / "p.log"
    command = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    record = start_process(
        command, pid_file=pid_file, log_file=log_file, env=dict(os.environ), cwd=tmp_path
    )
    assert is_alive(record)
    assert read_record(pid_file) == record
    assert os.getpgid(record.pid) == record.pid  # its own process group
    assert stop_process(pid_file)
    assert not is_alive(record)
    assert not pid_file.exists()
    assert not stop_process(pid_file)  # idempotent


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_start_cut_short_before_its_pid_file_is_still_stopped(tmp_path: Path) -> None:
    # A provider killed between starting the process and writing its pid file leaves
    # exactly this: a running process and no pid file.
    pid_file, log_file = tmp_path / "p.pid", tmp_path / "p.log"
    command = ["/bin/sh", "-c", "sleep 300 & sleep 300"]
    record = start_process(
        command, pid_file=pid_file, log_file=log_file, env=dict(os.environ), cwd=tmp_path
    )
    pid_file.unlink()
    with pytest.raises(BackendError, match=f"already running for {pid_file}"):
        start_process(
            command, pid_file=pid_file, log_file=log_file, env=dict(os.environ), cwd=tmp_path
        )
    assert stop_process(pid_file)
    with pytest.raises(ProcessLookupError):
        os.killpg(record.pid, 0)  # the leader and its worker
    assert not stop_process(pid_file)


def test_a_reused_pid_is_not_mistaken_for_the_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "p.pid"
    pid_file.write_text(json.dumps({"pid": os.getpid(), "start_ticks": 1, "command": ["x"]}))
    assert not is_alive(read_record(pid_file))


def test_ports(tmp_path: Path) -> None:
    port = find_free_port("127.0.0.1")
    assert port_is_free("127.0.0.1", port)


def test_retention_deletes_only_old_files_under_the_prefix(tmp_path: Path) -> None:
    rules = [{"name": "tmp", "prefix": "tmp/", "expire_after_days": 7}]
    write_marker(tmp_path, rules)
    old, fresh, kept = (
        tmp_path / "tmp" / "a" / "old.bin",
        tmp_path / "tmp" / "fresh.bin",
        tmp_path / "models" / "m.bin",
    )
    for path in (old, fresh, kept):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    ten_days_ago = time.time() - 10 * 86400
    for path in (old, kept):
        os.utime(path, (ten_days_ago, ten_days_ago))
    assert apply_retention(tmp_path, rules) == 1
    assert not old.exists()
    assert not old.parent.exists()
    assert fresh.exists()
    assert kept.exists()
    assert (tmp_path / MARKER).exists()


def _manifest(root: Path) -> dict[str, object]:
    (root / "components" / "m").mkdir(parents=True)
    (root / "components" / "m" / "train.py").write_text("def run(ctx):\n    return None\n")
    spec = PipelineSpec.model_validate(
        {"name": "p", "steps": [{"name": "t", "component": "m.train"}]}
    )
    return pipeline_manifest(spec, root).as_dict()


def test_packages_are_immutable(tmp_path: Path) -> None:
    store = tmp_path / "store"
    manifest = _manifest(tmp_path)
    package = publish_package(store, manifest, tmp_path / "components")
    assert (package / "code" / "m" / "train.py").read_text().startswith("def run")
    assert not os.access(package / "code" / "m" / "train.py", os.W_OK) or os.geteuid() == 0
    assert (
        publish_package(store, manifest, tmp_path / "components") == package
    )  # same content: no-op
    tampered = {**manifest, "digest": "0" * 64}
    with pytest.raises(
        ImmutableVersionError,
        match=r"already deployed with different content .* nothing was changed",
    ):
        publish_package(store, tampered, tmp_path / "components")
    assert read_manifest(store, "p", str(manifest["version"])) == manifest


def test_a_source_change_after_versioning_is_refused(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    (tmp_path / "components" / "m" / "train.py").write_text("changed")
    with pytest.raises(
        Exception, match=r"changed after version .* was computed; run pulumi up again"
    ):
        publish_package(tmp_path / "store", manifest, tmp_path / "components")
    assert not (tmp_path / "store" / "pipelines" / "p" / str(manifest["version"])).exists()


@pytest.mark.parametrize("prefix", ["/tmp/victim/", "../../", "tmp/../../x"])
def test_lifecycle_prefixes_cannot_leave_the_store(prefix: str) -> None:
    from pydantic import ValidationError

    from mlops_infra.specs import LifecycleRule

    with pytest.raises(ValidationError, match="is not an object key prefix"):
        LifecycleRule(name="x", prefix=prefix, expire_after_days=1)


def test_retention_never_deletes_outside_the_store(tmp_path: Path) -> None:
    outside = tmp_path / "victim" / "keep.txt"
    outside.parent.mkdir()
    outside.write_text("x")
    os.utime(outside, (0, 0))
    store = tmp_path / "store"
    store.mkdir()
    assert apply_retention(store, [{"prefix": "../victim/", "expire_after_days": 1}]) == 0
    assert outside.exists()


def test_workers_of_a_dead_leader_are_stopped_too(tmp_path: Path) -> None:
    pid_file, log_file = tmp_path / "p.pid", tmp_path / "p.log"
    # The leader forks a long-lived worker into its group, then exits.
    command = ["/bin/sh", "-c", "sleep 300 & exit 0"]
    record = start_process(
        command, pid_file=pid_file, log_file=log_file, env=dict(os.environ), cwd=tmp_path
    )
    deadline = time.monotonic() + 5
    while is_alive(record) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(record)
    os.killpg(record.pid, 0)  # the worker still holds the group
    assert stop_process(pid_file)
    with pytest.raises(ProcessLookupError):
        os.killpg(record.pid, 0)
