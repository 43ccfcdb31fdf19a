"""Immutable packages in the artifact bucket: ``<kind>s/<name>/<version>/{code,data}/...``.

Each file of a version (component code, its manifest, local data) becomes one object.
Objects are retained when a newer version replaces them, so every deployed version
stays in the bucket for rollback; their names carry the version, so nothing is ever
overwritten. Workloads read them through Cloud Storage FUSE at ``/gcs/<bucket>/...``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi_gcp import storage

from mlops_infra.backends.gcp._naming import fmt
from mlops_infra.backends.gcp._scope import AnyContext
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.specs import DataRef
from mlops_infra.versioning import VersionManifest, resolve_data_path

resolve_sdk_names_on_demand()

__all__ = ["FUSE_ROOT", "Package", "package_prefix", "package_root", "publish_package"]

FUSE_ROOT = "/gcs"
"""Where Vertex AI (and our Cloud Run jobs) mount the buckets."""


def package_root(kind: str, name: str) -> str:
    """Returns the object prefix of every version's package, e.g. ``pipelines/churn``."""
    return f"{kind}s/{name}"


def package_prefix(kind: str, name: str, version: str) -> str:
    """Returns the object prefix of a version's package, e.g. ``pipelines/churn/0123abcd``."""
    return f"{package_root(kind, name)}/{version}"


@dataclass(frozen=True)
class Package:
    """Where a version's package is, as the workloads see it.

    Attributes:
        uri: ``gs://`` URI of the package folder.
        code_dir: The component code, through FUSE.
        runs_dir: Where step outputs of each execution go, through FUSE.
        data: Data reference name → FUSE path (local data) or URI (remote data).
        objects: The objects uploaded for this version (empty for a pinned version).
    """

    uri: pulumi.Output[str]
    code_dir: pulumi.Output[str]
    runs_dir: pulumi.Output[str]
    data: Mapping[str, pulumi.Input[str]]
    objects: list[storage.BucketObject]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def publish_package(
    ctx: AnyContext,
    *,
    bucket: pulumi.Input[str],
    kind: str,
    name: str,
    version: str,
    manifest: VersionManifest,
    source_dir: Path,
    data: Mapping[str, DataRef],
    upload: bool,
) -> Package:
    """Uploads the package of ``manifest`` (when ``upload``) and returns where it is.

    ``upload`` is off for a pinned older version: its package is already in the bucket
    and the current source is not what it contains.
    """
    prefix = package_prefix(kind, name, version)
    objects: list[storage.BucketObject] = []
    # Replaced versions stay in the bucket (rollback); only their state entries go.
    keep = pulumi.ResourceOptions.merge(ctx.opts(), pulumi.ResourceOptions(retain_on_delete=True))
    data_paths: dict[str, pulumi.Input[str]] = {}
    if upload:
        for relative in sorted(manifest.code):
            objects.append(
                storage.BucketObject(
                    ctx.child_name(f"code-{relative}"),
                    bucket=bucket,
                    name=f"{prefix}/code/{relative}",
                    source=pulumi.FileAsset(str(source_dir / relative)),
                    opts=keep,
                )
            )
        objects.append(
            storage.BucketObject(
                ctx.child_name("manifest"),
                bucket=bucket,
                name=f"{prefix}/manifest.json",
                content=json.dumps(manifest.as_dict(), indent=2, sort_keys=True),
                content_type="application/json",
                opts=keep,
            )
        )
    for data_name, ref in sorted(data.items()):
        if not ref.is_local:
            data_paths[data_name] = ref.uri
            continue
        local = resolve_data_path(ref, ctx.target.project_dir)
        folder = f"{prefix}/data/{data_name}"
        if upload:
            for file in _files(local):
                relative = file.name if local.is_file() else file.relative_to(local).as_posix()
                objects.append(
                    storage.BucketObject(
                        ctx.child_name(f"data-{data_name}-{relative}"),
                        bucket=bucket,
                        name=f"{folder}/{relative}",
                        source=pulumi.FileAsset(str(file)),
                        opts=keep,
                    )
                )
        target = f"{folder}/{local.name}" if local.is_file() else folder
        data_paths[data_name] = fmt("{}/{}/{}", FUSE_ROOT, bucket, target)
    return Package(
        uri=fmt("gs://{}/{}", bucket, prefix),
        code_dir=fmt("{}/{}/{}/code", FUSE_ROOT, bucket, prefix),
        runs_dir=fmt("{}/{}/runs/{}/{}", FUSE_ROOT, bucket, kind, name),
        data=data_paths,
        objects=objects,
    )
