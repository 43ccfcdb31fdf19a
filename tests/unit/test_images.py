"""Build contexts of stack-built images: tags, archives, requirement lines (pure)."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

import pytest

from mlops_infra.images import (
    STORE_CLIENTS,
    ImageSource,
    component_requirements,
    library_requirements,
    mlflow_server_source,
    read_requirements,
    runtime_requirements,
    runtime_source,
)


def test_the_tag_is_the_content() -> None:
    one = ImageSource("runtime", {"Dockerfile": b"FROM x\n", "a.txt": b"a"})
    reordered = ImageSource("runtime", {"a.txt": b"a", "Dockerfile": b"FROM x\n"})
    changed = ImageSource("runtime", {"Dockerfile": b"FROM x\n", "a.txt": b"b"})
    renamed = ImageSource("runtime", {"Dockerfile": b"FROM x\n", "b.txt": b"a"})
    # A file boundary moved: same bytes in total, different files.
    moved = ImageSource("runtime", {"Dockerfile": b"FROM x\na", "a.txt": b""})
    assert one.tag == reordered.tag
    assert len({one.tag, changed.tag, renamed.tag, moved.tag}) == 4
    assert one.tag.startswith("runtime-")
    assert len(one.tag) == len("runtime-") + 16


def test_archives_are_byte_identical_and_hold_every_file(tmp_path: Path) -> None:
    source = ImageSource("runtime", {"Dockerfile": b"FROM x\n", "pkg/m.py": b"print(1)\n"})
    first = source.archive(tmp_path / "a")
    second = source.archive(tmp_path / "b")
    assert first.name == f"{source.tag}.tar.gz"
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        assert tar.getnames() == ["Dockerfile", "pkg/m.py"]
        member = tar.getmember("pkg/m.py")
        assert (member.mtime, member.uid, member.mode) == (0, 0, 0o644)
    assert gzip.decompress(first.read_bytes())  # a real gzip stream
    # No name field in the header (FLG.FNAME): bytes do not depend on who wrote them.
    assert first.read_bytes()[3] & 0x08 == 0
    assert not list((tmp_path / "a").glob(".*partial"))


def test_an_existing_archive_is_not_rewritten(tmp_path: Path) -> None:
    source = ImageSource("runtime", {"Dockerfile": b"FROM x\n"})
    path = source.archive(tmp_path)
    stamp = path.stat().st_mtime_ns
    assert source.archive(tmp_path) == path
    assert path.stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("scikit-learn>=1.5\n", ["scikit-learn>=1.5"]),
        ("# comment\n\npandas  # inline\n", ["pandas"]),
        ("--index-url https://x\n-r other.txt\nnumpy\n", ["numpy"]),
    ],
)
def test_read_requirements(tmp_path: Path, text: str, lines: list[str]) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    assert read_requirements(path) == lines


def test_component_requirements_reads_only_requirement_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "requirements.txt").write_text("pandas\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("numpy\n", encoding="utf-8")
    (tmp_path / "dev-requirements.txt").write_text("pytest\n", encoding="utf-8")
    code = ["a/requirements.txt", "a/m.py", "requirements.txt", "dev-requirements.txt"]
    assert component_requirements(code, tmp_path) == ["pandas", "numpy"]


def test_runtime_requirements_are_the_library_clients_cloud_and_components() -> None:
    lines = runtime_requirements(["pandas>=2", "pandas>=2"], ["sagemaker-mlflow>=0.5"])
    assert lines == sorted(set(lines))
    assert {*library_requirements(), *STORE_CLIENTS, "sagemaker-mlflow>=0.5", "pandas>=2"} == set(
        lines
    )
    assert [r for r in lines if r.startswith("mlflow")]
    assert not [r for r in lines if "extra ==" in r or r.startswith(("pytest", "ruff"))]


def test_the_runtime_source_copies_the_package_and_installs_the_requirements() -> None:
    source = runtime_source(["pandas>=2"], base_image="registry.example/python:3.11-slim")
    dockerfile = source.files["Dockerfile"].decode()
    assert dockerfile.startswith("FROM registry.example/python:3.11-slim\n")
    assert "pip install --no-cache-dir --requirement /opt/mlops/requirements.txt" in dockerfile
    assert "COPY mlops_infra /opt/mlops/mlops_infra" in dockerfile
    assert "pandas>=2" in source.files["requirements.txt"].decode().splitlines()
    assert "mlops_infra/images.py" in source.files


def test_the_mlflow_server_source_pins_the_release() -> None:
    source = mlflow_server_source("3.11.1", "boto3>=1.34")
    assert source.files["requirements.txt"].decode().splitlines() == [
        "boto3>=1.34",
        "mlflow[auth]==3.11.1",
        "psycopg2-binary>=2.9",
    ]
    assert source.tag != mlflow_server_source("3.12.0", "boto3>=1.34").tag
    assert source.tag.startswith("mlflow-server-")
