"""Content-addressed versions: same inputs anywhere → same version; any real change → new one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.specs import PipelineSpec
from mlops_infra.versioning import HashCache, HashingError, component_files, hash_file, hash_tree
from mlops_infra.versioning.hashing import CACHE_MIN_BYTES
from mlops_infra.versioning.manifest import pipeline_manifest

FILES = {
    "components/churn/__init__.py": "",
    "components/churn/features.py": "def featurize(x):\n    return x\n",
    "components/churn/train.py": "from churn.features import featurize\nfrom . import util\n\ndef run(ctx):\n    return {}\n",
    "components/churn/util.py": "X = 1\n",
    "components/churn/unused.py": "print('not imported by any step')\n",
    "components/churn/requirements.txt": "scikit-learn\n",
    "components/other/job.py": "def run(ctx):\n    return None\n",
    "data/train.csv": "a,b\n1,2\n",
}
SPEC: dict[str, Any] = {
    "name": "churn",
    "parameters": {"seed": 7, "lr": 0.1},
    "data": {"train": {"uri": "data/train.csv"}},
    "steps": [{"name": "train", "component": "churn.train", "parameters": {"depth": 3}}],
}


def _project(root: Path, files: dict[str, str] | None = None) -> Path:
    for relative, text in (files or FILES).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return root


def _version(root: Path, spec: dict[str, Any] | None = None) -> str:
    return pipeline_manifest(PipelineSpec.model_validate(spec or SPEC), root).version


@pytest.fixture
def base(tmp_path: Path) -> str:
    return _version(_project(tmp_path / "a"))


def _changed(tmp_path: Path, relative: str, text: str) -> str:
    root = _project(tmp_path / "b")
    (root / relative).write_text(text)
    return _version(root)


def test_same_inputs_in_two_checkouts_give_the_same_version(tmp_path: Path, base: str) -> None:
    assert _version(_project(tmp_path / "elsewhere" / "deeper")) == base


def test_files_written_in_another_order_give_the_same_version(tmp_path: Path, base: str) -> None:
    reversed_files = dict(reversed(list(FILES.items())))
    assert _version(_project(tmp_path / "c", reversed_files)) == base


def test_crlf_checkout_gives_the_same_version(tmp_path: Path, base: str) -> None:
    crlf = {k: v.replace("\n", "\r\n") for k, v in FILES.items()}
    assert _version(_project(tmp_path / "c", crlf)) == base


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("components/churn/train.py", FILES["components/churn/train.py"] + " "),
        ("components/churn/features.py", FILES["components/churn/features.py"].replace("x", "y")),
        ("components/churn/util.py", "X = 2\n"),
        ("components/churn/__init__.py", "# package docs\n"),
        ("components/churn/requirements.txt", "scikit-learn==1.9\n"),
        ("data/train.csv", "a,b\n1,3\n"),
    ],
)
def test_one_byte_in_a_used_file_or_data_is_a_new_version(
    tmp_path: Path, base: str, relative: str, text: str
) -> None:
    assert _changed(tmp_path, relative, text) != base


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("components/churn/unused.py", "print('edited')\n"),
        ("components/other/job.py", "def run(ctx):\n    return 1\n"),
        ("README.md", "docs\n"),
    ],
)
def test_unrelated_files_keep_the_version(
    tmp_path: Path, base: str, relative: str, text: str
) -> None:
    assert _changed(tmp_path, relative, text) == base


def test_edits_between_two_versions_in_one_process_are_seen(tmp_path: Path) -> None:
    root = _project(tmp_path / "a")
    first = _version(root)
    util = root / "components/churn/util.py"
    before = util.stat()
    util.write_text("X = 3\n")  # same size; the modification time put back: the change time moves
    os.utime(util, ns=(before.st_atime_ns, before.st_mtime_ns))
    second = _version(root)
    assert second != first
    train = root / "components/churn/train.py"
    train.write_text(FILES["components/churn/train.py"] + "import churn.unused\n")
    files = component_files(root / "components", ["churn.train"])
    assert root / "components/churn/unused.py" in files
    assert _version(root) not in {first, second}


def test_reordered_dict_keys_keep_the_version(tmp_path: Path, base: str) -> None:
    reordered = {
        "steps": [{"parameters": {"depth": 3}, "component": "churn.train", "name": "train"}],
        "data": {"train": {"uri": "data/train.csv"}},
        "parameters": {"lr": 0.1, "seed": 7},
        "name": "churn",
    }
    assert _version(_project(tmp_path / "b"), reordered) == base


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"parameters": {"seed": 8, "lr": 0.1}}, False),
        ({"steps": [{**SPEC["steps"][0], "image": "registry/train@sha256:" + "a" * 64}]}, False),
        ({"steps": [{**SPEC["steps"][0], "nodes": 2}]}, False),
        (
            {
                "data": {
                    "train": {"uri": "data/train.csv"},
                    "extra": {"uri": "s3://b/x", "version": "v3"},
                }
            },
            False,
        ),
        ({"model_name": "churn-v2"}, False),
        ({"schedule": {"cron": "0 3 * * 1"}}, True),
        ({"steps": [{**SPEC["steps"][0], "timeout_s": 7200, "retries": 2}]}, True),
        ({"run_on_change": False}, True),
        ({"flavor": "other", "options": {"a": 1}}, True),
    ],
)
def test_what_enters_the_version(
    tmp_path: Path, base: str, change: dict[str, Any], same: bool
) -> None:
    assert (_version(_project(tmp_path / "b"), {**SPEC, **change}) == base) is same


def test_remote_data_is_versioned_by_its_declared_version(tmp_path: Path) -> None:
    root = _project(tmp_path / "a")
    spec = {**SPEC, "data": {"train": {"uri": "s3://bucket/train.csv", "version": "v1"}}}
    v1 = _version(root, spec)
    spec_v2 = {**SPEC, "data": {"train": {"uri": "s3://bucket/train.csv", "version": "v2"}}}
    assert _version(root, spec_v2) != v1
    assert _version(root, spec) == v1


def test_package_data_is_hashed(tmp_path: Path) -> None:
    root = _project(tmp_path / "a")
    spec = {**SPEC, "data": {"train": {"uri": "pkg://sklearn.datasets/data/iris.csv"}}}
    manifest = pipeline_manifest(PipelineSpec.model_validate(spec), root)
    assert manifest.data["train"]["hash"].startswith("sha256:")


def test_used_files_are_exactly_the_imported_ones(tmp_path: Path) -> None:
    root = _project(tmp_path / "a")
    files = component_files(root / "components", ["churn.train"])
    assert [f.relative_to(root / "components").as_posix() for f in files] == [
        "churn/__init__.py",
        "churn/features.py",
        "churn/requirements.txt",
        "churn/train.py",
        "churn/util.py",
    ]


def test_missing_component_is_a_clear_error(tmp_path: Path) -> None:
    root = _project(tmp_path / "a")
    spec = {**SPEC, "steps": [{"name": "train", "component": "churn.trian"}]}
    with pytest.raises(
        HashingError, match=r"component 'churn\.trian' not found: no .*/components/churn/trian\.py"
    ):
        _version(root, spec)


def test_symlink_inside_data_hashes_as_its_target(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    (data / "latest.csv").symlink_to("a.csv")
    first = hash_tree(data)
    (data / "a.csv").write_text("2\n")
    assert hash_tree(data) != first  # the target's content counts once, through a.csv


def test_symlink_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "outside.csv").write_text("x\n")
    (data / "link.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(
        HashingError, match=r"outside .*; its content could differ between machines"
    ):
        hash_tree(data)


def test_large_files_are_streamed_and_cached(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with big.open("wb") as handle:
        for _ in range(CACHE_MIN_BYTES // len(block) + 1):
            handle.write(block)
    cache = HashCache(tmp_path / "cache.json")
    digest = hash_file(big, cache)
    cache.save()
    reloaded = HashCache(tmp_path / "cache.json")
    assert reloaded.get(big, big.stat()) == digest
    with big.open("r+b") as handle:  # same size, new content and mtime: the cache must miss
        handle.write(b"changed")
    assert hash_file(big, reloaded) != digest


def test_crlf_split_across_blocks_is_normalized(tmp_path: Path) -> None:
    lf, crlf = tmp_path / "lf.txt", tmp_path / "crlf.txt"
    line = "x" * 8191 + "\n"  # puts a CRLF exactly on the 8 KiB probe boundary
    lf.write_bytes((line * 300).encode())
    crlf.write_bytes((line * 300).replace("\n", "\r\n").encode())
    assert hash_file(lf) == hash_file(crlf)


def test_binary_files_are_hashed_raw(tmp_path: Path) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\x00\r\n")
    b.write_bytes(b"\x00\n")
    assert hash_file(a) != hash_file(b)


def test_bytecode_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    root = _project(tmp_path / "a")
    before = hash_tree(root / "components")
    (root / "components" / "churn" / "__pycache__").mkdir()
    (root / "components" / "churn" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\x00")
    (root / "components" / ".DS_Store").write_bytes(b"\x00")
    assert hash_tree(root / "components") == before
    shutil.rmtree(root / "components" / "churn" / "__pycache__")


def test_package_data_resolves_without_importing_the_package(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from mlops_infra.specs import DataRef;"
        "from mlops_infra.versioning import resolve_data_path;"
        "p = resolve_data_path(DataRef(uri='pkg://sklearn.datasets/data/iris.csv'), Path('.'));"
        "print(p.name, 'sklearn' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["iris.csv", "False", "False"]
