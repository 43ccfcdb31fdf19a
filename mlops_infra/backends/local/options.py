"""Options of the local flavors (the ``options:`` block of a local stack's specs)."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.specs import Spec

__all__ = ["LocalEndpointOptions", "LocalStoreOptions", "LocalTrackingOptions"]


class LocalStoreOptions(Spec):
    """Options of the local artifact store (a directory)."""

    path: str | None = None
    """Store directory, relative to the project root; default ``.mlops/<stack>/artifacts``."""


class LocalTrackingOptions(Spec):
    """Options of the local MLflow server."""

    host: str = Field(
        default="127.0.0.1", pattern=r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$"
    )
    """Address to listen on: loopback only (a tracking server is never public)."""

    port: int = Field(default=0, ge=0, le=65535)
    """Port; 0 picks a free port once and keeps it across restarts."""

    workers: int = Field(default=1, ge=1, le=8)
    """Server worker processes."""

    start_timeout_s: int = Field(default=120, ge=5, le=900)
    """How long to wait for the server to answer its health check."""


class LocalEndpointOptions(Spec):
    """Options of the local model server (``mlflow models serve``)."""

    host: str = Field(
        default="127.0.0.1", pattern=r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$"
    )
    """Address to listen on: loopback only."""

    port: int = Field(default=0, ge=0, le=65535)
    """Port; 0 picks a free port once and keeps it across restarts."""

    start_timeout_s: int = Field(default=180, ge=5, le=900)
    """How long to wait for the model server to answer ``/ping``."""
