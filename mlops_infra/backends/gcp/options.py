"""Options of the GCP flavors (the ``options:`` block of a gcp stack's specs); pure data."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mlops_infra.specs import Spec
from mlops_infra.specs.workload import check_image

__all__ = [
    "CloudRunJobOptions",
    "CloudRunServingOptions",
    "CloudRunTrackingOptions",
    "GcpNetworkOptions",
    "GcsStoreOptions",
    "GkeClusterOptions",
    "VertexClusterOptions",
    "VertexJobOptions",
    "WorkflowsPipelineOptions",
]

StorageClass = Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"]
"""GCS storage classes a bucket can default to."""

DiskType = Literal["pd-ssd", "pd-balanced", "pd-standard"]
"""Boot disk types of Vertex AI and GKE nodes."""

_CPU_RE = r"^(0\.[0-9]+|[1-9][0-9]*)$"
_MEMORY_RE = r"^[1-9][0-9]*(Mi|Gi)$"


class GcpNetworkOptions(Spec):
    """Options of a created network (``network.options``, read by the ``default`` foundation).

    Private Service Access gets two ranges of the network's peering with Google's service
    producers: one Cloud SQL instances are placed in, one left to Vertex AI jobs. Each
    service producer takes whole /24 blocks per region from them
    (https://cloud.google.com/sql/docs/postgres/private-ip#allocated_ip_address_ranges).
    """

    sql_range_prefix: int = Field(default=22, ge=16, le=24)
    """Prefix length of the range Cloud SQL uses (``<foundation>-psa-range``); Cloud SQL
    needs at least a /24 per region. A stack created before this range was split keeps its
    instance only with ``20`` (the range's former size: a new size replaces the range)."""

    vertex_range_prefix: int = Field(default=18, ge=16, le=24)
    """Prefix length of the range left to Vertex AI (``<foundation>-vertex-range``): a /18
    runs up to 15 parallel jobs of 8 nodes, a /16 up to 63, per Vertex AI's table
    (https://cloud.google.com/vertex-ai/docs/training/using-private-ip#reserve-ip-ranges)."""


class GcsStoreOptions(Spec):
    """Options of the ``gcs`` artifact store."""

    storage_class: StorageClass = "STANDARD"
    """Default storage class of new objects."""

    soft_delete_days: int = Field(default=7, ge=7, le=90)
    """Days a deleted or overwritten object can still be restored (GCS soft delete)."""

    log_retention_days: int = Field(default=365, ge=1, le=3650)
    """Days access logs are kept in the log bucket (with ``access_logging``)."""


class CloudRunTrackingOptions(Spec):
    """Options of the ``cloud-run`` tracking server (MLflow on Cloud Run, Cloud SQL PostgreSQL)."""

    image: str | None = None
    """MLflow server image (``mlflow[auth]``, ``psycopg2``, ``google-cloud-storage``);
    default: built by the stack with Cloud Build
    (``<registry>/mlflow-server:mlflow-server-<hash>``)."""

    database_version: Literal["POSTGRES_15", "POSTGRES_16", "POSTGRES_17"] = "POSTGRES_16"
    """Cloud SQL PostgreSQL major version."""

    database_tier: str | None = Field(default=None, pattern=r"^db-[a-z0-9-]+$")
    """Cloud SQL machine tier; default: from ``size`` (``db-custom-1-3840`` ... ``-4-15360``;
    a ``small`` server in a local or development environment: ``db-g1-small``, shared core)."""

    min_instances: int | None = Field(default=None, ge=0, le=10)
    """Server instances kept warm; default: 1 in production, else 0 (scale to zero)."""

    max_instances: int = Field(default=3, ge=1, le=100)
    """Most server instances."""

    ingress: Literal["all", "internal"] = "all"
    """Where requests may come from. ``all``: anywhere, each caller still needing
    ``roles/run.invoker`` (an ID token) and MLflow basic auth; Vertex AI jobs and the gate
    on the deployer's machine need it. ``internal``: the VPC only (then ``pulumi up`` must
    run inside the VPC and training must not use Vertex AI)."""

    deployer_invoker: bool = True
    """Grant ``roles/run.invoker`` on the service to the identity running ``pulumi up``,
    which the promotion gate and the registry alias call MLflow with."""

    _image = field_validator("image")(check_image)


class VertexClusterOptions(Spec):
    """Options of the ``vertex`` training cluster (per-job Vertex AI compute)."""

    cpu_machine_type: str = Field(default="n1-standard-8", pattern=r"^[a-z0-9-]+$")
    """Machine type of CPU-only clusters that name neither ``gpu`` nor ``instance_type``."""

    boot_disk_type: DiskType = "pd-ssd"
    """Boot disk type of each replica."""


class GkeClusterOptions(Spec):
    """Options of the ``gke`` training cluster (a GPU node pool that scales to zero)."""

    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    """GKE release channel of the cluster."""

    boot_disk_type: DiskType = "pd-balanced"
    """Boot disk type of each node."""

    cpu_machine_type: str = Field(default="e2-standard-8", pattern=r"^[a-z0-9-]+$")
    """Machine type of CPU-only pools that name neither ``gpu`` nor ``instance_type``."""


class VertexJobOptions(Spec):
    """Options of the ``vertex`` training job (one Vertex AI CustomJob per version)."""

    default_image: str | None = None
    """Image when the job names none; default: the runtime image the stack builds (Cloud
    Build)."""

    tracking_invoker: bool = True
    """Grant the workload ``roles/run.invoker`` on the tracking server's Cloud Run service
    and send it an ID token; turn off for a tracking server that is not on Cloud Run."""

    _image = field_validator("default_image")(check_image)


class CloudRunJobOptions(Spec):
    """Options of the ``cloud-run`` training job (a Cloud Run job run once per version)."""

    default_image: str | None = None
    """Image when the job names none; default: the runtime image the stack builds (Cloud
    Build)."""

    cpu: str = Field(default="4", pattern=_CPU_RE)
    """vCPUs of the task (at least 4 with a GPU)."""

    memory: str = Field(default="16Gi", pattern=_MEMORY_RE)
    """Memory of the task (at least 16Gi with a GPU)."""

    tracking_invoker: bool = True
    """Grant the workload ``roles/run.invoker`` on the tracking server's Cloud Run service
    and send it an ID token; turn off for a tracking server that is not on Cloud Run."""

    _image = field_validator("default_image")(check_image)


class WorkflowsPipelineOptions(Spec):
    """Options of the ``workflows`` pipeline (Cloud Workflows running Vertex AI CustomJobs)."""

    default_image: str | None = None
    """Image of the steps that name none; default: the runtime image the stack builds (Cloud
    Build)."""

    poll_interval_s: int = Field(default=30, ge=5, le=600)
    """Seconds between two status checks of a running step."""

    call_log_level: Literal["LOG_ALL_CALLS", "LOG_ERRORS_ONLY", "LOG_NONE"] = "LOG_ERRORS_ONLY"
    """What Cloud Workflows logs of each call."""

    tracking_invoker: bool = True
    """Grant the workload ``roles/run.invoker`` on the tracking server's Cloud Run service
    and send it an ID token; turn off for a tracking server that is not on Cloud Run."""

    _image = field_validator("default_image")(check_image)


class CloudRunServingOptions(Spec):
    """Options of the ``cloud-run`` serving endpoint (MLflow model server on Cloud Run)."""

    image: str | None = None
    """Your own model server image (``mlflow`` with the model's dependencies; it reads the
    model from the store); default: built by the stack per served version with Cloud Build
    (the model and its dependencies inside, ``<registry>/serving:serving-<hash>``)."""

    cpu: str | None = Field(default=None, pattern=_CPU_RE)
    """vCPUs per instance; default: 4 with a GPU, else 1."""

    memory: str | None = Field(default=None, pattern=_MEMORY_RE)
    """Memory per instance; default: 16Gi with a GPU, else 2Gi."""

    request_timeout_s: int = Field(default=60, ge=1, le=3600)
    """Longest a request may take."""

    _image = field_validator("image")(check_image)
