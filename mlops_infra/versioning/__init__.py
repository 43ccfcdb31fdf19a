"""Content-addressed versions of pipelines and jobs, and the hashing they rest on."""

from mlops_infra.versioning.code import component_files
from mlops_infra.versioning.hashing import HashCache, HashingError, hash_file, hash_json, hash_tree
from mlops_infra.versioning.manifest import (
    VersionManifest,
    data_hash,
    job_manifest,
    pipeline_manifest,
    resolve_data_path,
)

__all__ = [
    "HashCache",
    "HashingError",
    "VersionManifest",
    "component_files",
    "data_hash",
    "hash_file",
    "hash_json",
    "hash_tree",
    "job_manifest",
    "pipeline_manifest",
    "resolve_data_path",
]
