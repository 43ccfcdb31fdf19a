"""What a cloud's rehearsal is handed: the deployment, a work folder, processes, images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mlops_infra.images import runtime_requirements
from mlops_infra.rehearse.capture import Deployment
from mlops_infra.rehearse.environments import VenvCache
from mlops_infra.rehearse.processes import Processes
from mlops_infra.rehearse.report import Report

__all__ = ["CloudRehearsal", "Faults", "RehearsalContext"]


@dataclass(frozen=True)
class Faults:
    """Faults injected into a rehearsal (tests): each must make it fail, naming the step.

    Attributes:
        drop_input: ``(step, upstream)``: the step's definition loses its wiring of
            ``upstream``'s outputs (the step still reads them).
        serving_drop_requirement: A distribution removed from the serving image (even
            where another requirement pulls it in).
        rename_variable: ``(old, new)``: a contract variable the container is given under
            a wrong name.
        revoke_action: An action taken out of every role the stack generates (where the
            cloud's rehearsal checks grants: AWS IAM).
    """

    drop_input: tuple[str, str] | None = None
    serving_drop_requirement: str | None = None
    rename_variable: tuple[str, str] | None = None
    revoke_action: str | None = None


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

    def runtime_python(
        self, component_requirements: Sequence[str], cloud_requirements: Sequence[str] = ()
    ) -> Path:
        """The interpreter of the runtime image: the requirement lines the image installs.

        Those are :func:`~mlops_infra.images.runtime_requirements`: mlops-infra's
        dependencies, the object-store clients, the cloud's extras and the component
        package's requirement files.
        """
        requirements = runtime_requirements(component_requirements, cloud_requirements)
        return self.venvs.python(requirements, image="runtime image")


class CloudRehearsal(Protocol):
    """A cloud's interpreter of what its backend generates."""

    def run(self, ctx: RehearsalContext) -> None:
        """Runs the deployment's pipelines, gates and serving containers; fills the report.

        Raises:
            RehearsalError: a step, gate or serving container broke its contract.
        """
        ...
