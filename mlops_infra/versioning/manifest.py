"""Versions of pipelines and jobs: a content hash of exactly what determines their behaviour.

Included: the component code they use (see :mod:`~mlops_infra.versioning.code`), the
step graph, images, parameters, environment variables and the content (or declared
version) of each data reference. Excluded, because they change where or when the work
runs but not what it computes: the environment, cluster names and sizes, timeouts,
retries, schedules and flavor options. So the version that passed in staging is the
version that runs in production.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlops_infra.specs import DataRef, PipelineSpec, TrainingJobSpec, WorkloadSpec
from mlops_infra.versioning.code import component_files
from mlops_infra.versioning.hashing import HashCache, HashingError, hash_file, hash_json, hash_tree

__all__ = [
    "MANIFEST_FORMAT",
    "VERSION_LENGTH",
    "VersionManifest",
    "data_hash",
    "job_manifest",
    "pipeline_manifest",
    "resolve_data_path",
]

MANIFEST_FORMAT = 1
"""Bumped only if the hashing rules change (which changes every version)."""

VERSION_LENGTH = 16
"""Hex digits of a version: 64 bits, ample for the versions of one pipeline."""


@dataclass(frozen=True)
class VersionManifest:
    """What a version is made of; its hash is the version.

    Attributes:
        kind: ``pipeline`` or ``job``.
        name: The pipeline's or job's name.
        definition: The behaviour-defining settings, as canonical data.
        code: Relative path (under the source folder) → content hash, for each used file.
        data: Data reference name → ``{"uri", "hash"}``.
    """

    kind: str
    name: str
    definition: Mapping[str, Any]
    code: Mapping[str, str]
    data: Mapping[str, Mapping[str, str]]
    _digest: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        """Computes the digest once."""
        object.__setattr__(self, "_digest", hash_json(self.as_dict(with_version=False)))

    @property
    def digest(self) -> str:
        """Full SHA-256 of the manifest."""
        return self._digest

    @property
    def version(self) -> str:
        """The version: the digest's first :data:`VERSION_LENGTH` hex digits."""
        return self._digest[:VERSION_LENGTH]

    @property
    def code_hash(self) -> str:
        """Hash of the used code alone."""
        return hash_json(dict(self.code))

    @property
    def data_hash(self) -> str:
        """Hash of the data references alone."""
        return hash_json({name: ref["hash"] for name, ref in self.data.items()})

    @property
    def config_hash(self) -> str:
        """Hash of the definition alone (graph, parameters, images)."""
        return hash_json(dict(self.definition))

    def as_dict(self, *, with_version: bool = True) -> dict[str, Any]:
        """Returns the manifest as JSON-ready data (stored beside the package)."""
        data: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "kind": self.kind,
            "name": self.name,
            "definition": dict(self.definition),
            "code": dict(self.code),
            "data": {name: dict(ref) for name, ref in self.data.items()},
        }
        if with_version:
            data["version"] = self.version
            data["digest"] = self.digest
            data["code_hash"] = self.code_hash
            data["config_hash"] = self.config_hash
            data["data_hash"] = self.data_hash
        return data

    def changed_components(self, other: VersionManifest) -> list[str]:
        """Returns the code files that differ from ``other``'s (added, removed or edited)."""
        keys = set(self.code) | set(other.code)
        return sorted(k for k in keys if self.code.get(k) != other.code.get(k))


def _package_file(package: str, resource: str) -> Path | None:
    """Finds ``resource`` of a regular package on disk, without importing the package.

    Importing it can cost seconds (``pkg://sklearn.datasets/...`` imports scikit-learn,
    NumPy and SciPy). Only a top-level lookup is made (it imports nothing); every level
    below must be a plain folder with an ``__init__.py``. ``None`` when that does not find
    the file: the caller then asks the imported package, as before.
    """
    top, *inner = package.split(".")
    spec = importlib.util.find_spec(top)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location, *inner)
        levels = [Path(location, *inner[: depth + 1]) for depth in range(len(inner))]
        if all((level / "__init__.py").is_file() for level in levels):
            candidate = folder / resource
            if candidate.exists():
                return candidate
    return None


def resolve_data_path(ref: DataRef, project_dir: Path) -> Path:
    """Returns the local path of a ``file``/``pkg`` data reference.

    Raises:
        HashingError: the path or package resource does not exist.
    """
    if ref.scheme == "pkg":
        parsed = urlparse(ref.uri)
        package, resource = parsed.netloc, parsed.path.lstrip("/")
        found = _package_file(package, resource)
        if found is not None:
            return found
        if importlib.util.find_spec(package) is None:
            msg = f"data {ref.uri!r}: package {package!r} is not installed"
            raise HashingError(msg)
        path = Path(str(importlib.resources.files(package).joinpath(resource)))
    elif ref.uri.startswith("file://"):
        path = Path(urlparse(ref.uri).path)
    else:
        path = project_dir / ref.uri
    if not path.exists():
        msg = f"data {ref.uri!r}: {path} does not exist"
        raise HashingError(msg)
    return path


def data_hash(ref: DataRef, project_dir: Path, cache: HashCache | None = None) -> str:
    """Returns the content hash of local data, or ``version:<v>`` for versioned references."""
    if ref.version is not None:
        return f"version:{ref.version}"
    return "sha256:" + hash_tree(resolve_data_path(ref, project_dir), cache)


def _workload(spec: WorkloadSpec, parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    merged = {**(parameters or {}), **spec.parameters}
    return {
        "component": spec.component,
        "nodes": spec.nodes,
        "image": spec.image,
        "parameters": merged,
        "environment_variables": dict(spec.environment_variables),
    }


def _code(source_dir: Path, components: list[str]) -> dict[str, str]:
    if not source_dir.is_dir():
        msg = f"source folder {source_dir} does not exist"
        raise HashingError(msg)
    return {
        path.relative_to(source_dir).as_posix(): hash_file(path)
        for path in component_files(source_dir, components)
    }


def _data(
    refs: Mapping[str, DataRef], project_dir: Path, cache: HashCache | None
) -> dict[str, dict[str, str]]:
    return {
        name: {"uri": ref.uri, "hash": data_hash(ref, project_dir, cache)}
        for name, ref in sorted(refs.items())
    }


def pipeline_manifest(
    spec: PipelineSpec, project_dir: Path, cache: HashCache | None = None
) -> VersionManifest:
    """Returns the version manifest of a pipeline's current source, config and data."""
    steps = {
        step.name: {
            **_workload(step, spec.parameters),
            "image": step.image or spec.image,
            "depends_on": sorted(step.depends_on),
        }
        for step in spec.steps
    }
    definition = {"steps": steps, "model_name": spec.registered_model}
    return VersionManifest(
        kind="pipeline",
        name=spec.name,
        definition=definition,
        code=_code(project_dir / spec.source_dir, [s.component for s in spec.steps]),
        data=_data(spec.data, project_dir, cache),
    )


def job_manifest(
    spec: TrainingJobSpec, project_dir: Path, cache: HashCache | None = None
) -> VersionManifest:
    """Returns the version manifest of a training job."""
    definition = {**_workload(spec), "output_model": spec.output_model}
    return VersionManifest(
        kind="job",
        name=spec.name,
        definition=definition,
        code=_code(project_dir / spec.source_dir, [spec.component]),
        data=_data(spec.data, project_dir, cache),
    )
