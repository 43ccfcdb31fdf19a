"""Serving endpoints: online inference for a registered model, behind a promotion gate."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, field_validator, model_validator

from mlops_infra.specs._base import Name, raise_issues
from mlops_infra.specs._flavored import FlavoredSpec
from mlops_infra.specs.compute import ComputeSpec
from mlops_infra.specs.gate import PromotionGate
from mlops_infra.specs.workload import check_model_name

__all__ = ["ServingEndpointSpec"]

_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class ServingEndpointSpec(FlavoredSpec, ComputeSpec):
    """An online endpoint serving one registered model, chosen by alias and gate."""

    name: Name
    """Endpoint name."""

    model: str
    """Registered model to serve (a pipeline's model or a job's ``output_model``)."""

    alias: str = "champion"
    """Registry alias the gate promotes to; the endpoint serves what it points at."""

    model_version: int | None = Field(default=None, ge=1)
    """Serve exactly this registered version (rollback); the gate still applies."""

    external_model: bool = False
    """The model is registered outside this stack (no pipeline or job here produces it)."""

    gate: PromotionGate | None = None
    """Conditions a version must meet before it is served; ``None`` serves any version."""

    min_replicas: int | None = Field(default=None, ge=0, le=100)
    """Replicas kept running; default: 2 in production, else 1."""

    max_replicas: int = Field(default=2, ge=1, le=100)
    """Most replicas autoscaling may run."""

    target_concurrency: int = Field(default=50, ge=1, le=10000)
    """Concurrent requests per replica that autoscaling aims for."""

    canary_percent: int | None = Field(default=None, ge=1, le=50)
    """Send this share of traffic to a newly promoted version before shifting all of it."""

    public: bool = False
    """Expose the endpoint outside the private network (off: private only)."""

    _model = field_validator("model")(check_model_name)

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not _ALIAS_RE.fullmatch(value):
            msg = f"{value!r} is not a registry alias; allowed: lowercase letters, digits, '_', '-'"
            raise ValueError(msg)
        if value == "latest":
            msg = "'latest' is reserved by MLflow; choose another alias, e.g. 'champion'"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _replicas(self) -> Self:
        if self.min_replicas is not None and self.min_replicas > self.max_replicas:
            raise_issues(
                [
                    (
                        ("min_replicas",),
                        f"min_replicas ({self.min_replicas}) is greater than max_replicas "
                        f"({self.max_replicas})",
                    )
                ],
                title="ServingEndpointSpec",
            )
        return self
