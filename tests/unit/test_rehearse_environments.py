"""Rehearse's image environments: built once per requirement set, started from bytecode."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import zipfile
from pathlib import Path

import pytest

from mlops_infra.rehearse.environments import VenvCache


def _wheel(folder: Path) -> Path:
    """A one-module wheel written by hand (no index and no build backend needed)."""
    files = {
        "tinymod/__init__.py": b"VALUE = 42\n",
        "tinymod-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinymod\nVersion: 0.1\n",
        "tinymod-0.1.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files["tinymod-0.1.dist-info/RECORD"] = (
        "\n".join([*record, "tinymod-0.1.dist-info/RECORD,,"]) + "\n"
    ).encode()
    path = folder / "tinymod-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_an_environment_is_built_once_with_compiled_bytecode(tmp_path: Path) -> None:
    """A step's interpreter starts from compiled modules, as an image's `pip install` leaves
    them: without them every step process recompiles its imports (MLflow: ~7 s)."""
    wheel = _wheel(tmp_path)
    cache = VenvCache(tmp_path / "venvs")
    python = cache.python([str(wheel)], image="test image")

    compiled = list(
        (python.parent.parent / "lib").glob("python3*/site-packages/tinymod/__pycache__/*.pyc")
    )
    assert len(compiled) == 1
    done = subprocess.run(
        [str(python), "-c", "import tinymod; print(tinymod.VALUE)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "42"
    # The second call reuses the environment: nothing rebuilt.
    marker = python.parent.parent / ".rehearse-ready"
    before = marker.stat().st_mtime_ns
    assert cache.python([str(wheel)], image="test image") == python
    assert marker.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        (["b", "a"], ["a", "b", "a"], True),
        (["a"], ["a", "b"], False),
        ([" a "], ["a"], True),
    ],
)
def test_the_cache_key_ignores_order_and_duplicates(
    left: list[str], right: list[str], same: bool
) -> None:
    assert (VenvCache.key(left) == VenvCache.key(right)) is same


def test_removing_a_distribution_is_a_different_environment() -> None:
    assert VenvCache.key(["a"], without=["b"]) != VenvCache.key(["a"])
