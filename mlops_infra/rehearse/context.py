"""What a cloud's rehearsal is handed: the deployment, a work folder, processes, images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mlops_infra.rehearse.capture import Deployment
from mlops_infra.rehearse.environments import VenvCache, project_requirements
from mlops_infra.rehearse.processes import Processes
from mlops_infra.rehearse.report import Report

__all__ = ["RUNTIME_IMAGE_EXTRAS", "CloudRehearsal", "Faults", "RehearsalContext"]

RUNTIME_IMAGE_EXTRAS = (
    "boto3>=1.34",
    "google-cloud-storage>=2.14",
    "azure-storage-blob>=12.19",
)
"""Object-store clients the runtime image carries for MLflow's artifact code, one per cloud
(the same image environment then serves every cloud)."""


@dataclass(frozen=True)
class Faults:
    """Faults injected into a rehearsal (tests): each must make it fail, naming the step.

    Attributes:
        drop_input: ``(step, upstream)``: the step's definition loses its wiring of
            ``upstream``'s outputs (the step still reads them).
        serving_drop_requirement: A requirement removed from the serving image.
        rename_variable: ``(old, new)``: a contract variable the container is given under
            a wrong name.
    """

    drop_input: tuple[str, str] | None = None
    serving_drop_requirement: str | None = None
    rename_variable: tuple[str, str] | None = None


@dataclass
class RehearsalContext:
    """Everything a cloud's rehearsal needs.

    Attributes:
        deployment: What ``pulumi up`` would deploy.
        workdir: This run's folder (container paths are mapped under it).
        processes: Children to start; all are stopped when the rehearsal ends.
        venvs: Image environments.
        report: Where results go.
        base_environment: Environment every child starts from (``PATH``, ``HOME``...).
        faults: Injected faults (tests only).
    """

    deployment: Deployment
    workdir: Path
    processes: Processes
    venvs: VenvCache
    report: Report
    base_environment: Mapping[str, str]
    faults: Faults = field(default_factory=Faults)

    @property
    def project_dir(self) -> Path:
        """The project root (its ``mlops_infra`` is the one images carry)."""
        return self.deployment.project_dir

    def runtime_python(self, component_requirements: Sequence[str]) -> Path:
        """The interpreter of the runtime image.

        Its requirements: mlops-infra's dependencies, the component package's requirement
        files and the object-store clients.
        """
        requirements = [
            *project_requirements(self.project_dir),
            *component_requirements,
            *RUNTIME_IMAGE_EXTRAS,
        ]
        return self.venvs.python(requirements, image="runtime image")


class CloudRehearsal(Protocol):
    """A cloud's interpreter of what its backend generates."""

    def run(self, ctx: RehearsalContext) -> None:
        """Runs the deployment's pipelines, gates and serving containers; fills the report.

        Raises:
            RehearsalError: a step, gate or serving container broke its contract.
        """
        ...
