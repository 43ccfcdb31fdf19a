"""Immutable pipeline packages in the artifact store: ``pipelines/<name>/<version>/``.

A package holds the exact component files a version runs (``code/``) and its
``manifest.json``. It is written once, atomically, and never overwritten: deploying
different content under an existing version is refused, and nothing is changed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_infra.errors import BackendError
from mlops_infra.versioning.hashing import hash_file

__all__ = [
    "ImmutableVersionError",
    "deployed_versions",
    "package_dir",
    "publish_package",
    "read_manifest",
]

_MANIFEST = "manifest.json"


class ImmutableVersionError(BackendError):
    """Different content was about to be stored under an existing version."""


def package_dir(store: Path, pipeline: str, version: str) -> Path:
    """Returns where the package of ``pipeline`` at ``version`` lives in the store."""
    return store / "pipelines" / pipeline / version


def read_manifest(store: Path, pipeline: str, version: str) -> dict[str, Any] | None:
    """Returns the stored manifest of a deployed version, or ``None`` if it was never deployed."""
    path = package_dir(store, pipeline, version) / _MANIFEST
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None  # pyright: ignore[reportUnknownVariableType]


def deployed_versions(store: Path, pipeline: str) -> list[str]:
    """Returns the versions of ``pipeline`` with a package in the store, sorted."""
    root = store / "pipelines" / pipeline
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / _MANIFEST).is_file())


def publish_package(store: Path, manifest: Mapping[str, Any], source_dir: Path) -> Path:
    """Stores the package of ``manifest`` (files from ``source_dir``); returns its folder.

    Publishing a version that is already stored with the same digest changes nothing.

    Raises:
        ImmutableVersionError: the version is stored with a different digest.
        BackendError: a source file no longer matches the manifest (it changed after the
            version was computed), or is missing.
    """
    pipeline, version, digest = manifest["name"], manifest["version"], manifest["digest"]
    destination = package_dir(store, pipeline, version)
    stored = read_manifest(store, pipeline, version)
    if stored is not None:
        if stored.get("digest") != digest:
            msg = (
                f"pipeline {pipeline!r} version {version} is already deployed with different "
                f"content (stored digest {stored.get('digest')}, new digest {digest}); "
                "deployed versions are immutable, nothing was changed"
            )
            raise ImmutableVersionError(msg)
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=destination.parent))
    try:
        code: Mapping[str, str] = manifest["code"]
        for relative, expected in code.items():
            source = source_dir / relative
            if not source.is_file():
                msg = f"{source} is part of version {version} but is missing; run pulumi up again"
                raise BackendError(msg)
            if hash_file(source) != expected:
                msg = f"{source} changed after version {version} was computed; run pulumi up again"
                raise BackendError(msg)
            target = staging / "code" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        (staging / _MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
        )
        _make_read_only(staging)
        try:
            staging.rename(destination)
        except OSError:
            # Another run published the same version first; it must be identical.
            if read_manifest(store, pipeline, version) is None:
                raise
            return publish_package(store, manifest, source_dir)
    finally:
        if staging.exists():
            _make_writable(staging)
            shutil.rmtree(staging, ignore_errors=True)
    return destination


def _make_read_only(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
