"""Vertex AI CustomJobs: the request body, and a dynamic resource that submits one per version.

pulumi_gcp has no CustomJob resource, so :class:`VertexCustomJob` calls the Vertex AI
REST API at ``pulumi up``: ``create`` submits the job (it does not wait for it),
``read`` reports its state, ``delete`` cancels it while it still runs. Any change of
the request is a new job (jobs cannot be edited), which is why its display name
carries the content hash of what it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from mlops_infra.resources import ComputeRef

__all__ = [
    "ENTRYPOINT",
    "TERMINAL_STATES",
    "Machine",
    "VertexCustomJob",
    "api_root",
    "custom_job_body",
]

ENTRYPOINT = ["python", "-m", "mlops_infra.backends.gcp.container_entry"]
"""Command of every workload container (see :mod:`mlops_infra.backends.gcp.container_entry`)."""

TERMINAL_STATES = (
    "JOB_STATE_SUCCEEDED",
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLED",
    "JOB_STATE_EXPIRED",
)
"""Vertex AI job states after which nothing runs any more."""

_INPUTS = ("project", "region", "job")


def api_root(region: str) -> str:
    """Returns the regional Vertex AI endpoint."""
    return f"https://{region}-aiplatform.googleapis.com/v1"


@dataclass(frozen=True)
class Machine:
    """The machines of one job or step.

    Attributes:
        machine_type: Vertex AI machine type.
        accelerator: Accelerator type (``NVIDIA_L4``), or ``None`` for CPU.
        accelerator_count: Accelerators per machine.
        replicas: Machines (distributed training when more than one).
        spot: Run on spot capacity.
        boot_disk_gib: Boot disk of each machine.
        boot_disk_type: Its type.
    """

    machine_type: str
    accelerator: str | None = None
    accelerator_count: int = 0
    replicas: int = 1
    spot: bool = False
    boot_disk_gib: int = 100
    boot_disk_type: str = "pd-ssd"

    @classmethod
    def of(
        cls, cluster: ComputeRef | None, *, nodes: int, spot: bool | None, cpu_machine_type: str
    ) -> Machine:
        """Returns the machines a workload gets on ``cluster`` (``None``: default CPU)."""
        if cluster is None:
            return cls(machine_type=cpu_machine_type, replicas=nodes, spot=bool(spot))
        return cls(
            machine_type=cluster.instance_type or cpu_machine_type,
            accelerator=cluster.accelerator,
            accelerator_count=cluster.gpus_per_node if cluster.accelerator else 0,
            replicas=nodes,
            spot=cluster.spot if spot is None else spot,
        )

    def machine_spec(self) -> dict[str, Any]:
        """Returns the REST ``MachineSpec``."""
        spec: dict[str, Any] = {"machineType": self.machine_type}
        if self.accelerator:
            spec["acceleratorType"] = self.accelerator
            spec["acceleratorCount"] = self.accelerator_count
        return spec


def custom_job_body(
    *,
    display_name: str,
    machine: Machine,
    image: pulumi.Input[str],
    env: Mapping[str, pulumi.Input[str]],
    service_account: pulumi.Input[str],
    timeout_s: int,
    output_uri: pulumi.Input[str],
    network: pulumi.Input[str] | None,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """Returns the REST body of a CustomJob (values may still be outputs).

    One worker pool holds the chief; with more than one replica a second pool of the
    same machines holds the workers.
    """
    container = {
        "imageUri": image,
        "command": ENTRYPOINT,
        "env": [{"name": key, "value": value} for key, value in sorted(env.items())],
    }
    disk = {"bootDiskType": machine.boot_disk_type, "bootDiskSizeGb": machine.boot_disk_gib}
    pools: list[dict[str, Any]] = [
        {
            "machineSpec": machine.machine_spec(),
            "replicaCount": 1,
            "diskSpec": disk,
            "containerSpec": container,
        }
    ]
    if machine.replicas > 1:
        pools.append({**pools[0], "replicaCount": machine.replicas - 1})
    job_spec: dict[str, Any] = {
        "workerPoolSpecs": pools,
        "scheduling": {
            "timeout": f"{timeout_s}s",
            "strategy": "SPOT" if machine.spot else "STANDARD",
        },
        "serviceAccount": service_account,
        "baseOutputDirectory": {"outputUriPrefix": output_uri},
        "enableWebAccess": False,
    }
    if network is not None:
        job_spec["network"] = network
    return {"displayName": display_name[:128], "jobSpec": job_spec, "labels": dict(labels)}


class _CustomJobProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        from mlops_infra.backends.gcp._api import call  # noqa: PLC0415 - provider side

        region, project = props["region"], props["project"]
        url = f"https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/customJobs"
        job = call("POST", url, props["job"])
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        outs.update(job_name=job["name"], state=job.get("state"))
        return CreateResult(id_=job["name"], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in _INPUTS if olds.get(k) != news.get(k)]
        # A submitted job cannot be edited: any change is a new job.
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from mlops_infra.backends.gcp._api import RestError, call  # noqa: PLC0415

        try:
            job = call("GET", f"https://{props['region']}-aiplatform.googleapis.com/v1/{id_}")
        except RestError as error:
            if error.status == 404:
                return ReadResult(None, {})
            raise
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        outs["state"] = job.get("state")
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from mlops_infra.backends.gcp._api import RestError, call  # noqa: PLC0415

        url = f"https://{props['region']}-aiplatform.googleapis.com/v1/{id_}"
        try:
            if call("GET", url).get("state") not in TERMINAL_STATES:
                call("POST", f"{url}:cancel")
        except RestError as error:
            if error.status not in (400, 404):
                raise


class VertexCustomJob(Resource, module="mlops", name="GcpVertexCustomJob"):
    """One Vertex AI CustomJob, submitted at ``pulumi up``."""

    job_name: pulumi.Output[str]
    """Resource name of the job (``projects/.../locations/.../customJobs/<id>``)."""

    state: pulumi.Output[str | None]
    """Job state when last read."""

    def __init__(
        self,
        name: str,
        *,
        project: pulumi.Input[str],
        region: str,
        job: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the job ``name`` with the REST body ``job``."""
        props = {
            "project": project,
            "region": region,
            "job": dict(job),
            "job_name": None,
            "state": None,
        }
        super().__init__(_CustomJobProvider(), name, props, opts)
