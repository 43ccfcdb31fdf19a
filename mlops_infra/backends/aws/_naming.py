"""Physical AWS names: derived from the stack and the component, deterministic, within limits.

Logical (Pulumi) names are the contract of URNs; physical names are what AWS sees. Where
AWS requires a name (SageMaker jobs, pipelines, endpoints, tracking servers) it is built
here from the stack and component names, so two stacks in one account never collide and
the same inputs always give the same name. Too-long names keep a readable head and end in
a short hash of the full name, so they stay unique.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "bucket_prefix",
    "has_instance_storage",
    "key_safe",
    "physical_name",
]

_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")


def physical_name(*parts: str, max_length: int = 63) -> str:
    """Joins ``parts`` into a lowercase, dash-separated name of at most ``max_length``.

    Characters other than letters, digits and ``-`` become ``-``; the result starts with a
    letter or digit (SageMaker's ``[a-zA-Z0-9](-*[a-zA-Z0-9])*``, also valid for ECS, RDS
    snapshot and IAM names).
    """
    joined = "-".join(p for p in parts if p)
    name = _DASHES.sub("-", _NOT_ALLOWED.sub("-", joined.lower())).strip("-")
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    head = name[: max_length - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def bucket_prefix(stack: str, component: str) -> str:
    """Prefix of an auto-named bucket: ``<stack>-<component>-`` (S3 allows 37 characters)."""
    return physical_name(stack, component, max_length=36) + "-"


def key_safe(path: str) -> str:
    """A relative path as a Pulumi logical-name fragment (``a/b.py`` → ``a-b.py``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path).strip("-")


#: Instance families whose storage is local NVMe, encrypted by the instance's hardware.
#: SageMaker rejects a KMS key (``VolumeKmsKeyId``, ``KmsKeyId`` of an endpoint config)
#: and a volume size for them: "Certain Nitro-based instances include local storage ...
#: you can't request a VolumeKmsKeyId when using an instance type with local storage."
_INSTANCE_STORAGE_FAMILIES = frozenset(
    {
        "c5d", "c6id", "g4dn", "g5", "g6", "g6e", "gr6", "m5d", "m6id",
        "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "r5d", "r6id", "trn1", "inf2",
    }
)  # fmt: skip


def has_instance_storage(instance_type: str) -> bool:
    """Whether ``instance_type`` (``ml.g5.xlarge`` or ``g5.xlarge``) has local NVMe storage."""
    parts = instance_type.split(".")
    family = parts[1] if parts[0] == "ml" and len(parts) > 2 else parts[0]
    return family in _INSTANCE_STORAGE_FAMILIES
