"""The GPU quotas a gcp stack needs before its first ``up`` can run what it declares.

Google grants them per project and region, and not always by default: Cloud Run GPUs
(L4) start without an allocation (https://cloud.google.com/run/docs/configuring/services/gpu),
Vertex AI custom training has a per-accelerator quota, often zero for A100, H100 and H200
(https://cloud.google.com/vertex-ai/docs/quotas), and GKE GPU nodes use Compute Engine's GPU
quotas (https://cloud.google.com/compute/resource-usage#gpu_quota). ``mlops-infra check``
prints what :func:`required_quotas` finds; pure data, no SDK.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_infra.backends.gcp.gpus import GCP_GPUS
from mlops_infra.specs import StackSpec

__all__ = ["USUALLY_ZERO", "Quota", "quota_lines", "required_quotas"]

USUALLY_ZERO = frozenset({"a100-40gb", "a100-80gb", "h100", "h200"})
"""GPUs whose Vertex AI quota new projects usually lack (request an increase first)."""

_RUN_DOC = "https://cloud.google.com/run/docs/configuring/services/gpu"
_RUN_JOB_DOC = "https://cloud.google.com/run/docs/configuring/jobs/gpu"
_VERTEX_DOC = "https://cloud.google.com/vertex-ai/docs/quotas"
_COMPUTE_DOC = "https://cloud.google.com/compute/resource-usage#gpu_quota"


@dataclass(frozen=True)
class Quota:
    """A quota a stack needs.

    Attributes:
        service: The service that meters it (``Cloud Run``, ``Vertex AI``, ``Compute Engine``).
        name: The quota as the service's quota page names it.
        region: Where it is needed (``None``: the provider's region).
        amount: Most the stack uses at once at full scale.
        needed_by: What in the stack needs it (``endpoint 'churn'``).
        usually_zero: New projects usually have none: request an increase before ``up``.
        doc: The documentation page describing the quota.
    """

    service: str
    name: str
    region: str | None
    amount: int
    needed_by: str
    usually_zero: bool
    doc: str


def _accelerator(gpu: str) -> str:
    """Returns the accelerator type of a portable GPU name (``l4`` → ``NVIDIA_L4``)."""
    for offer in GCP_GPUS.offers("training"):
        if offer.gpu == gpu and offer.accelerator:
            return offer.accelerator
    return gpu.upper()


def required_quotas(spec: StackSpec) -> tuple[Quota, ...]:
    """Returns the GPU quotas ``spec`` needs, one per cluster, job or endpoint using GPUs."""
    found: list[Quota] = []
    region = spec.region
    for endpoint in spec.endpoints:
        if endpoint.gpu is None:
            continue
        found.append(
            Quota(
                service="Cloud Run",
                name="Total Nvidia L4 GPU allocation, per project per region (services)",
                region=region,
                amount=endpoint.gpu_count * endpoint.max_replicas,
                needed_by=f"endpoint {endpoint.name!r}",
                usually_zero=True,
                doc=_RUN_DOC,
            )
        )
    clusters = {cluster.name: cluster for cluster in spec.clusters}
    for cluster in spec.clusters:
        if cluster.gpu is None:
            continue
        amount = cluster.gpu_count * cluster.max_nodes
        preemptible = "preemptible " if cluster.spot else ""
        if (cluster.flavor or "vertex") == "gke":
            found.append(
                Quota(
                    service="Compute Engine",
                    name=f"{preemptible}{_accelerator(cluster.gpu)} GPUs, per region",
                    region=region,
                    amount=amount,
                    needed_by=f"cluster {cluster.name!r} (GKE node pool)",
                    usually_zero=cluster.gpu in USUALLY_ZERO,
                    doc=_COMPUTE_DOC,
                )
            )
            continue
        found.append(
            Quota(
                service="Vertex AI",
                name=(
                    f"Custom model training {preemptible}{_accelerator(cluster.gpu)} GPUs, "
                    "per region"
                ),
                region=region,
                amount=amount,
                needed_by=f"cluster {cluster.name!r} (Vertex AI custom jobs)",
                usually_zero=cluster.gpu in USUALLY_ZERO,
                doc=_VERTEX_DOC,
            )
        )
    for job in spec.jobs:
        cluster = clusters.get(job.cluster or "")
        if job.flavor != "cloud-run" or cluster is None or cluster.gpu is None:
            continue
        found.append(
            Quota(
                service="Cloud Run",
                name="Total Nvidia L4 GPU allocation, per project per region (jobs)",
                region=region,
                amount=cluster.gpu_count * job.nodes,
                needed_by=f"job {job.name!r}",
                usually_zero=True,
                doc=_RUN_JOB_DOC,
            )
        )
    return tuple(found)


def quota_lines(spec: StackSpec) -> list[str]:
    """Returns one line per quota ``spec`` needs, as ``mlops-infra check`` prints them."""
    lines: list[str] = []
    for quota in required_quotas(spec):
        where = quota.region or "the provider's region"
        advice = "; usually none by default: request an increase" if quota.usually_zero else ""
        lines.append(
            f"quota: {quota.service} '{quota.name}' in {where}: {quota.amount} "
            f"for {quota.needed_by}{advice} ({quota.doc})"
        )
    return lines
