"""Tracking server: MLflow experiment tracking and model registry."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from mlops_infra.specs._base import Spec
from mlops_infra.specs._flavored import FlavoredSpec, reject_mixed_existing

__all__ = ["ExistingTrackingServer", "TrackingServerSpec", "TrackingSize"]

TrackingSize = Literal["small", "medium", "large"]
"""Capacity class; each flavor maps it to its own sizes (SageMaker Small/Medium/Large, ...)."""

_CONFIG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z][A-Za-z0-9_.-]*)?$")


def _check_config_key(value: str | None) -> str | None:
    if value is not None and not _CONFIG_KEY_RE.fullmatch(value):
        msg = (
            f"{value!r} is not a Pulumi config key; allowed: 'key' or 'namespace:key' "
            "(letters, digits, '_', '.', '-')"
        )
        raise ValueError(msg)
    return value


class ExistingTrackingServer(Spec):
    """An MLflow tracking server run elsewhere, adopted instead of created."""

    url: str = Field(pattern=r"^https?://[^\s]+$")
    """Its tracking URI, e.g. ``https://mlflow.internal.example.com``."""

    username: str | None = None
    """Basic-auth user, when the server needs one."""

    password_config_key: str | None = None
    """Name of the secret Pulumi config key holding the password (never the password)."""

    _key = field_validator("password_config_key")(_check_config_key)


class TrackingServerSpec(FlavoredSpec):
    """An MLflow tracking server with a model registry, its database and artifact store.

    Never public; authenticated outside the local tier.
    """

    existing: ExistingTrackingServer | None = None
    """Adopt this server instead of creating one (exclusive with the creation fields)."""

    size: TrackingSize = "small"
    """Capacity class of the server."""

    auth: bool | None = None
    """Require authentication; default: on everywhere but the local tier."""

    admin_password_config_key: str | None = None
    """Secret Pulumi config key with the admin password; default: a generated password,
    kept as a Pulumi secret."""

    high_availability: bool | None = None
    """Spread the server and its database over zones; default: on in production."""

    database_storage_gib: int = Field(default=20, ge=10, le=16384)
    """Database storage, for flavors that run their own database."""

    backup_retention_days: int = Field(default=7, ge=1, le=35)
    """Days of automated database backups, for flavors that run their own database."""

    mlflow_version: str = "3.11"
    """MLflow release to run; 3.11 or later (earlier ones have known security flaws)."""

    purge_on_delete: bool = False
    """Delete the tracking data (database, run history) when the server is destroyed."""

    _key = field_validator("admin_password_config_key")(_check_config_key)

    @field_validator("mlflow_version")
    @classmethod
    def _supported_mlflow(cls, value: str) -> str:
        match = re.fullmatch(r"(\d+)\.(\d+)(\.\d+)?", value)
        if match is None or (int(match[1]), int(match[2])) < (3, 11):
            msg = f"MLflow {value!r} is not allowed; allowed: 3.11 or later (X.Y or X.Y.Z)"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        reject_mixed_existing(self, self.existing, always_allowed=frozenset({"flavor", "options"}))
        return self
