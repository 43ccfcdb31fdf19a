"""Build contexts of the images a stack builds itself: the workload runtime and the MLflow server.

A build context is a Dockerfile and the files it copies, held in memory. Its tag is
``<kind>-<16 hex of a hash over every file>``: the same content always gets the same tag
(registries with immutable tags accept it once, nothing is built twice) and new content a
new one. A cloud uploads :meth:`ImageSource.archive` (a ``.tar.gz``, byte-identical for
identical content, so the upload shows no diff on a repeated ``up``) to its artifact store
and builds it with its own build service.

* :func:`runtime_source`, the image of training jobs and pipeline steps: Python,
  mlops-infra's own dependencies, the object-store clients, the cloud's extras and the
  components' requirement files, then the ``mlops_infra`` package copied from the
  deployer's installation (mlops-infra is never fetched from a package index);
* :func:`mlflow_server_source`, the tracking server: ``mlflow[auth]`` at the stack's
  release, the PostgreSQL driver and the cloud's object-store client.

``mlops-infra rehearse`` builds its runtime virtualenvs from :func:`runtime_requirements`,
the same lines the runtime image installs.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import io
import os
import sys
import tarfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import pulumi

from mlops_infra.errors import BackendError
from mlops_infra.resources import FoundationRef

__all__ = [
    "STORE_CLIENTS",
    "BuiltImage",
    "ImageSource",
    "ServingImage",
    "WorkloadImages",
    "component_requirements",
    "library_requirements",
    "mlflow_server_source",
    "read_requirements",
    "runtime_requirements",
    "runtime_source",
    "stack_registry",
]

STORE_CLIENTS = (
    "boto3>=1.34",
    "google-cloud-storage>=2.14",
    "azure-storage-blob>=12.19",
)
"""Object-store clients of MLflow's artifact code, one per cloud (one runtime serves all)."""

_PACKAGE = Path(__file__).resolve().parent
_APP = "/opt/mlops"


@dataclass(frozen=True)
class ImageSource:
    """A Dockerfile and the files it copies; the tag is a hash of all of them.

    Attributes:
        kind: What the image is (``runtime``, ``mlflow-server``): the tag's prefix.
        files: Path inside the context (``/``-separated) → content.
    """

    kind: str
    files: Mapping[str, bytes]

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 over every path and content, in path order."""
        sha = hashlib.sha256()
        for path in sorted(self.files):
            content = self.files[path]
            sha.update(f"{path}\0{len(content)}\0".encode())
            sha.update(content)
        return sha.hexdigest()

    @property
    def tag(self) -> str:
        """``<kind>-<16 hex>``: the image's tag, and its folder in the artifact store."""
        return f"{self.kind}-{self.digest[:16]}"

    def archive(self, folder: Path) -> Path:
        """Writes ``<folder>/<tag>.tar.gz`` (once; identical bytes for identical content).

        Entries are sorted, owned by root, dated 1970, so the archive's hash is the
        content's; a concurrent writer never leaves a partial file (atomic rename).
        """
        path = folder / f"{self.tag}.tar.gz"
        if path.is_file():
            return path
        folder.mkdir(parents=True, exist_ok=True)
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(self.files):
                content = self.files[name]
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(content), 0o644, 0
                tar.addfile(info, io.BytesIO(content))
        partial = folder / f".{self.tag}.{os.getpid()}.partial"
        # No file name in the gzip header (it would carry the partial file's pid).
        with (
            partial.open("wb") as out,
            gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as gz,
        ):
            gz.write(raw.getvalue())
        partial.replace(path)
        return path


@dataclass(frozen=True)
class BuiltImage:
    """An image the stack builds, and the resources that must exist before it is used.

    Attributes:
        image: ``<repository>:<tag>``, known when the program runs (so plans show it).
        resources: The build (consumers depend on it: the tag exists once it is done).
    """

    image: pulumi.Output[str]
    resources: Sequence[pulumi.Resource]


@dataclass(frozen=True)
class WorkloadImages:
    """The images of a job or of a pipeline's steps: the one named, else the runtime image.

    Attributes:
        runtime: The runtime image the stack builds (``None`` when every image is named).
    """

    runtime: BuiltImage | None

    def of(self, image: str | None) -> pulumi.Input[str]:
        """``image`` when named, else the stack-built runtime image."""
        if image:
            return image
        if self.runtime is None:
            msg = "an unnamed image, but no runtime image was declared"
            raise ValueError(msg)
        return self.runtime.image

    @property
    def resources(self) -> list[pulumi.Resource]:
        """What the job or pipeline waits for (the runtime image's build)."""
        return list(self.runtime.resources) if self.runtime else []


@dataclass(frozen=True)
class ServingImage:
    """A served version's image (``None`` while nothing is served) and its build."""

    image: pulumi.Output[str | None]
    resources: Sequence[pulumi.Resource]


def stack_registry(
    component: str, foundation: FoundationRef | None, what: str, instead: str
) -> pulumi.Output[str]:
    """The URL of the stack's registry, which the stack builds ``what`` into.

    Raises:
        BackendError: the stack has no registry (``instead`` says what to set instead).
    """
    registry_url = foundation.registry_url if foundation else None
    if registry_url is None:
        msg = (
            f"{component}: no registry to build {what} in; {instead}, or let the stack create "
            "its container registry (registry.create: true)"
        )
        raise BackendError(msg)
    return pulumi.Output.from_input(registry_url).apply(lambda u: str(u or ""))


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a ``requirements.txt`` (comments, blanks, options dropped)."""
    lines: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def component_requirements(code: Iterable[str], source_dir: Path) -> list[str]:
    """The lines of every ``requirements.txt`` among a version's ``code`` files.

    ``code``: paths relative to ``source_dir`` (a manifest's code files), the same
    requirement files rehearse finds in the package it stages.
    """
    return [
        line
        for relative in sorted(code)
        if PurePosixPath(relative).name == "requirements.txt"
        for line in read_requirements(source_dir / relative)
    ]


def library_requirements() -> list[str]:
    """mlops-infra's own dependencies, without extras (installed metadata, else pyproject)."""
    try:
        declared = importlib.metadata.requires("mlops-infra") or []
    except importlib.metadata.PackageNotFoundError:
        pyproject = _PACKAGE.parent / "pyproject.toml"
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        declared = [str(d) for d in project.get("dependencies", [])]
    return [r for r in declared if "extra ==" not in r.replace('"', "'")]


def runtime_requirements(
    component_requirements: Iterable[str], cloud_requirements: Iterable[str] = ()
) -> list[str]:
    """The runtime image's requirement lines, sorted and unique (rehearse installs the same)."""
    lines = [*library_requirements(), *STORE_CLIENTS, *cloud_requirements, *component_requirements]
    return sorted({line.strip() for line in lines if line.strip()})


def _python_base(base_image: str | None) -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return base_image or f"python:{version}-slim"


@functools.cache
def _library_files() -> Mapping[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(_PACKAGE.rglob("*")):
        relative = path.relative_to(_PACKAGE)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            files[f"mlops_infra/{relative.as_posix()}"] = path.read_bytes()
    return MappingProxyType(files)


def runtime_source(
    component_requirements: Sequence[str],
    cloud_requirements: Sequence[str] = (),
    *,
    base_image: str | None = None,
) -> ImageSource:
    """The runtime image of jobs and steps (see the module).

    Args:
        component_requirements: Requirement lines of the components' requirement files.
        cloud_requirements: The cloud's extras (e.g. ``sagemaker-mlflow`` on AWS).
        base_image: ``FROM``; default ``python:<the deployer's major.minor>-slim`` (the
            deployer's Python, which rehearse also uses), under the cloud's mirror if given.
    """
    requirements = runtime_requirements(component_requirements, cloud_requirements)
    dockerfile = f"""\
FROM {_python_base(base_image)}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PYTHONPATH={_APP}
COPY requirements.txt {_APP}/requirements.txt
RUN pip install --no-cache-dir --requirement {_APP}/requirements.txt
COPY mlops_infra {_APP}/mlops_infra
WORKDIR {_APP}
"""
    return ImageSource(
        kind="runtime",
        files={
            "Dockerfile": dockerfile.encode(),
            "requirements.txt": ("\n".join(requirements) + "\n").encode(),
            **_library_files(),
        },
    )


def mlflow_server_source(
    mlflow_version: str, store_client: str, *, base_image: str | None = None
) -> ImageSource:
    """The MLflow tracking server image: ``mlflow[auth]==<version>``, psycopg2, the store client.

    The container's command comes from the service that runs it (the image has none).
    """
    requirements = [f"mlflow[auth]=={mlflow_version}", "psycopg2-binary>=2.9", store_client]
    dockerfile = f"""\
FROM {_python_base(base_image)}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /opt/mlflow/requirements.txt
RUN pip install --no-cache-dir --requirement /opt/mlflow/requirements.txt
"""
    return ImageSource(
        kind="mlflow-server",
        files={
            "Dockerfile": dockerfile.encode(),
            "requirements.txt": ("\n".join(sorted(requirements)) + "\n").encode(),
        },
    )
