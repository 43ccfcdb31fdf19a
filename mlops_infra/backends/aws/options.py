"""Options of the AWS flavors (the ``options:`` block of an AWS stack's specs); pure data."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mlops_infra.specs import Spec

__all__ = [
    "FARGATE_MEMORY_MIB",
    "BatchClusterOptions",
    "S3StoreOptions",
    "SageMakerEndpointOptions",
    "SageMakerJobOptions",
    "SageMakerPipelineOptions",
    "SageMakerTrackingOptions",
    "SelfHostedTrackingOptions",
]

_IMAGE = r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"  # noqa: E501


class S3StoreOptions(Spec):
    """Options of the S3 artifact store."""

    key_deletion_window_days: int = Field(default=30, ge=7, le=30)
    """Days a deleted store key can still be recovered (its data is unreadable without it)."""

    abort_multipart_days: int = Field(default=7, ge=1, le=365)
    """Delete incomplete multipart uploads after this many days."""

    access_log_days: int = Field(default=365, ge=1, le=36500)
    """Days server access logs are kept (with ``access_logging: true``)."""


class SageMakerTrackingOptions(Spec):
    """Options of SageMaker managed MLflow."""

    deployment: Literal["auto", "app", "tracking-server"] = "auto"
    """``app``: serverless MLflow App (no server size; the service runs it across zones);
    ``tracking-server``: a tracking server of the spec's ``size``; ``auto``: the App when the
    spec asks for high availability (on in production), else a tracking server. Fixed once
    created: switching replaces the tracking service (a migration, refused in production)."""

    maintenance_window: str | None = Field(
        default=None, pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01][0-9]|2[0-3]):[0-5][0-9]$"
    )
    """Weekly maintenance start in UTC, e.g. ``Sun:03:30``; default: chosen by SageMaker."""

    managed_mlflow_version: str | None = Field(default=None, pattern=r"^\d+\.\d+(\.\d+)?$")
    """MLflow version of a tracking server, as SageMaker names it; default: the service's
    newest. (The spec's ``mlflow_version`` is for flavors that run MLflow themselves.)"""

    automatic_model_registration: bool = False
    """Also register MLflow models in the SageMaker Model Registry."""


FARGATE_MEMORY_MIB: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
"""Fargate task sizes: CPU units → the memory values (MiB) allowed with them
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size)."""


def _mib_list(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


class SelfHostedTrackingOptions(Spec):
    """Options of MLflow on ECS Fargate behind an internal load balancer, over RDS PostgreSQL."""

    image: str | None = Field(default=None, pattern=_IMAGE)
    """MLflow server image with ``mlflow[auth]``, ``psycopg2`` and ``boto3``; default: built
    by the stack with CodeBuild into its ECR repository (tag ``mlflow-server-<hash>``)."""

    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = 1024
    """Fargate CPU units per task."""

    memory_mib: int = Field(default=2048, ge=512, le=122880)
    """Memory per task: one of the sizes Fargate allows with ``cpu`` (see
    :data:`FARGATE_MEMORY_MIB`; e.g. 2048 to 8192 in steps of 1024 with cpu 1024)."""

    replicas: int | None = Field(default=None, ge=1, le=10)
    """Server tasks; default: 2 with high availability, else 1."""

    db_instance_class: str | None = Field(default=None, pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    """RDS instance class; default: ``db.t4g.small`` (``db.m7g.large`` with high availability)."""

    db_engine_version: str = Field(default="16", pattern=r"^\d+(\.\d+)?$")
    """PostgreSQL major (or major.minor) version."""

    certificate_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:acm:")
    """ACM certificate of :attr:`domain`, for the HTTPS listener. Required outside the
    development tier: without it the listener is plain HTTP on port 80 and basic-auth
    credentials cross the VPC unencrypted."""

    domain: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    )
    """The server's DNS name (``mlflow.internal.example.com``), which the certificate names
    and which must resolve to the load balancer (ACM issues no certificate for an ELB DNS
    name). The tracking URL and MLflow's allowed hosts follow it."""

    hosted_zone_id: str | None = Field(default=None, pattern=r"^Z[A-Z0-9]{1,31}$")
    """Route 53 hosted zone of :attr:`domain`: when set, the stack creates the alias record
    pointing the domain at the load balancer; else point it there yourself."""

    allowed_cidrs: tuple[str, ...] = ()
    """Private ranges (VPN, peered networks) allowed to reach the server, besides the stack's
    workloads."""

    log_retention_days: int = Field(default=90, ge=1, le=3653)
    """Days the server's logs are kept."""

    @model_validator(mode="after")
    def _fargate_task_size(self) -> SelfHostedTrackingOptions:
        allowed = FARGATE_MEMORY_MIB[self.cpu]
        if self.memory_mib not in allowed:
            msg = (
                f"memory_mib {self.memory_mib} is not a Fargate task size with cpu {self.cpu}; "
                f"allowed with cpu {self.cpu}: {_mib_list(allowed)}"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _tls_names_a_domain(self) -> SelfHostedTrackingOptions:
        if (self.certificate_arn is None) != (self.domain is None):
            msg = (
                "certificate_arn and domain go together: the certificate is issued for the "
                f"domain, which resolves to the load balancer (got certificate_arn="
                f"{self.certificate_arn!r}, domain={self.domain!r})"
            )
            raise ValueError(msg)
        if self.hosted_zone_id is not None and self.domain is None:
            msg = f"hosted_zone_id {self.hosted_zone_id!r} needs the domain it holds; set domain"
            raise ValueError(msg)
        return self

    @field_validator("allowed_cidrs")
    @classmethod
    def _private(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                msg = f"{cidr!r} is not a network range; allowed: CIDR like 10.8.0.0/16"
                raise ValueError(msg) from None
            if not network.is_private:
                msg = f"{cidr!r} is public; allowed: private ranges only (never public)"
                raise ValueError(msg)
        return value


class BatchClusterOptions(Spec):
    """Options of the AWS Batch GPU pool."""

    vcpus_per_node: int | None = Field(default=None, ge=1, le=448)
    """vCPUs of one node; needed only for an ``instance_type`` the backend does not know."""

    allocation_strategy: (
        Literal["BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"]
        | None
    ) = None
    """How Batch picks instances; default: capacity-optimized for spot, else best-fit."""


class SageMakerJobOptions(Spec):
    """Options of SageMaker training jobs (standalone jobs)."""

    volume_size_gib: int = Field(default=100, ge=1, le=16384)
    """EBS volume per instance (ignored on instances with local NVMe storage)."""

    max_wait_factor: float = Field(default=2.0, ge=1.0, le=10.0)
    """With spot: the job may wait for capacity up to this multiple of its ``timeout_s``."""


class SageMakerPipelineOptions(Spec):
    """Options of SageMaker pipelines."""

    max_parallel_steps: int = Field(default=4, ge=1, le=256)
    """Steps run at once."""

    volume_size_gib: int = Field(default=50, ge=1, le=16384)
    """EBS volume per step instance (ignored on instances with local NVMe storage)."""

    max_wait_factor: float = Field(default=2.0, ge=1.0, le=10.0)
    """Spot steps may wait for capacity up to this multiple of their ``timeout_s``."""


class SageMakerEndpointOptions(Spec):
    """Options of SageMaker real-time endpoints."""

    image: str | None = Field(default=None, pattern=_IMAGE)
    """Your own serving image, run with SageMaker's ``serve`` contract; default: built by the
    stack per served version (MLflow's image with the model and its dependencies inside,
    tag ``serving-<hash>``)."""

    network_isolation: bool = True
    """Cut the model container off the network. Turn off only for models that install
    packages at start (``env_manager`` other than ``local``)."""

    canary_wait_s: int = Field(default=600, ge=0, le=3600)
    """With ``canary_percent``: how long the canary serves before all traffic shifts."""

    rollback_on_errors: bool = True
    """Roll a deployment back when the new fleet returns 5xx errors (a CloudWatch alarm)."""

    cpu_instance_type: str = Field(default="ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    """Instance type of CPU endpoints (no ``gpu`` and no ``instance_type``)."""
