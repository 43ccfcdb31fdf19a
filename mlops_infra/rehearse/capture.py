"""What ``pulumi up`` would deploy for a stack: its program run offline, under mocks.

The program is the one ``pulumi up`` runs (:func:`~mlops_infra.program.build_stack`)
and the one ``mlops-infra plan`` records; rehearse keeps the raw registrations (assets,
generated definitions, commands) instead of the masked plan. Secret config values are
placeholders: rehearse never decrypts anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from mlops_infra.offline import ProgramRun, Registration, run_offline
from mlops_infra.plan.build import project_name, read_stack_source, stack_file_path
from mlops_infra.plan.mocks import PlanMocks
from mlops_infra.program import build_stack, secret_keys
from mlops_infra.specs import StackSpec

__all__ = ["Deployment", "capture"]


@dataclass(frozen=True)
class Deployment:
    """The resources a stack's program registers, as ``pulumi up`` would send them.

    Attributes:
        stack: Stack name.
        spec: The validated stack spec.
        project_dir: Project root.
        run: Every registration, inputs unmasked (assets as Pulumi asset objects).
    """

    stack: str
    spec: StackSpec
    project_dir: Path
    run: ProgramRun

    def of_type(self, type_token: str) -> list[Registration]:
        """Registrations of one type token, in registration order."""
        return self.run.of_type(type_token)

    def inputs(self, registration: Registration) -> dict[str, Any]:
        """A registration's inputs with secrets unwrapped."""
        return registration.plain_inputs()


def capture(stack: str, project_dir: Path) -> Deployment:
    """Runs ``stacks/Pulumi.<stack>.yaml``'s program offline and keeps what it registers.

    Raises:
        MlopsError: the stack file is invalid or the program failed.
    """
    project_dir = project_dir.resolve()
    source = read_stack_source(stack_file_path(project_dir, stack), stack=stack)
    spec = source.spec
    secrets = {key: f"<secret {key}>" for key in secret_keys(spec)}
    config = dict(source.config)
    for key, value in secrets.items():
        config[key if ":" in key else f"mlops:{key}"] = value

    def program() -> None:
        build_stack(
            spec,
            project_dir=project_dir,
            secrets={k: pulumi.Output.secret(v) for k, v in secrets.items()},
        )

    run = run_offline(
        program,
        project=project_name(project_dir),
        stack=stack,
        config=config,
        mocks=PlanMocks(region=spec.region),
    )
    return Deployment(stack=stack, spec=spec, project_dir=project_dir, run=run)
