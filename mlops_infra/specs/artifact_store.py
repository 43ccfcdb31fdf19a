"""Artifact store: where datasets, models and pipeline packages are kept."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, field_validator, model_validator

from mlops_infra.specs._base import Spec, check_unique_names, raise_issues
from mlops_infra.specs._flavored import FlavoredSpec, reject_mixed_existing

__all__ = ["ArtifactStoreSpec", "ExistingArtifactStore", "LifecycleRule"]

_URI_RE = re.compile(r"^(s3|gs|abfss|https|file)://[^\s]+$")


class LifecycleRule(Spec):
    """Expire objects under a prefix: how long data is kept."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    """Rule name, unique within the store."""

    prefix: str = ""
    """Objects whose key starts with this prefix; empty means every object."""

    @field_validator("prefix")
    @classmethod
    def _relative_prefix(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            msg = (
                f"{value!r} is not an object key prefix; allowed: a relative prefix such as "
                "'tmp/', without a leading '/' or '..' segments"
            )
            raise ValueError(msg)
        return value

    expire_after_days: int | None = Field(default=None, ge=1, le=36500)
    """Delete current objects this many days after creation; ``None`` keeps them."""

    noncurrent_after_days: int | None = Field(default=None, ge=1, le=36500)
    """Delete superseded object versions this many days after they were replaced."""

    @model_validator(mode="after")
    def _does_something(self) -> Self:
        if self.expire_after_days is None and self.noncurrent_after_days is None:
            msg = "a lifecycle rule needs expire_after_days or noncurrent_after_days"
            raise ValueError(msg)
        return self


class ExistingArtifactStore(Spec):
    """An artifact store created elsewhere, adopted instead of created."""

    uri: str
    """Its URI: ``s3://bucket[/prefix]``, ``gs://bucket[/prefix]``,
    ``https://account.blob.core.windows.net/container[/prefix]`` or ``file:///path``."""

    encryption_key: str | None = None
    """The KMS key (ARN, resource id or key URI) that encrypts it, when it has one."""

    @field_validator("uri")
    @classmethod
    def _check_uri(cls, value: str) -> str:
        if not _URI_RE.fullmatch(value):
            msg = (
                f"{value!r} is not an artifact store URI; allowed schemes: "
                "s3://, gs://, abfss://, https://, file://"
            )
            raise ValueError(msg)
        return value.rstrip("/")


class ArtifactStoreSpec(FlavoredSpec):
    """A bucket (or directory) for datasets, models and pipeline packages.

    Private, versioned and encrypted by default; stateful, so protected in production.
    """

    existing: ExistingArtifactStore | None = None
    """Adopt this store instead of creating one (exclusive with the creation fields)."""

    bucket_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    """Physical bucket/container name; default: derived from the stack and a random suffix.
    Changing it replaces the store."""

    versioning: bool = True
    """Keep every version of every object (recover from overwrites and deletes)."""

    encryption_key: str | None = None
    """Customer-managed key to encrypt with; default: a dedicated key with rotation."""

    lifecycle: tuple[LifecycleRule, ...] = (
        LifecycleRule(name="tmp", prefix="tmp/", expire_after_days=7),
    )
    """Expiry rules; the default clears scratch data under ``tmp/`` after a week."""

    noncurrent_version_days: int | None = Field(default=90, ge=1, le=36500)
    """Delete superseded versions of any object after this many days; ``None`` keeps them."""

    access_logging: bool = False
    """Write server access logs to a separate log bucket."""

    object_lock_days: int | None = Field(default=None, ge=1, le=36500)
    """Write-once retention (governance mode) for this many days; needs versioning."""

    purge_on_delete: bool = False
    """Delete the data when the store is destroyed. Off: destroying keeps the data."""

    @field_validator("lifecycle")
    @classmethod
    def _unique_rules(cls, value: tuple[LifecycleRule, ...]) -> tuple[LifecycleRule, ...]:
        check_unique_names(value, "lifecycle rule")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        reject_mixed_existing(self, self.existing, always_allowed=frozenset({"flavor", "options"}))
        if self.object_lock_days is not None and not self.versioning:
            raise_issues(
                [(("object_lock_days",), "object lock needs versioning: true")],
                title="ArtifactStoreSpec",
            )
        return self
