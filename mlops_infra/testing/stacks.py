"""Synthesize a whole stack offline from a spec, the way ``pulumi up`` would build it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi

from mlops_infra.offline import ProgramRun, run_offline
from mlops_infra.program import build_stack
from mlops_infra.registry import Registry
from mlops_infra.specs import StackSpec

__all__ = ["run_stack"]


def run_stack(
    spec: StackSpec | Mapping[str, Any],
    *,
    registry: Registry | None = None,
    project_dir: Path | None = None,
    secrets: Mapping[str, str] | None = None,
    stack: str = "test",
    mocks: pulumi.runtime.Mocks | None = None,
) -> ProgramRun:
    """Builds the :class:`~mlops_infra.MlopsStack` of ``spec`` under mocks.

    Args:
        spec: A spec, or its fields as a mapping (validated against ``registry``).
        registry: Backend registry (e.g. :func:`~mlops_infra.testing.fake_registry`).
        project_dir: Project root for component code and data; default: current folder.
        secrets: Secret config values the spec names, by key as written in the spec.
        stack: Stack name.
        mocks: Mocks answering registrations; default: inputs echoed as outputs.
    """
    if isinstance(spec, StackSpec):
        resolved = spec
    else:
        resolved = StackSpec.model_validate(
            dict(spec), context={"registry": registry} if registry else None
        )

    def program() -> None:
        build_stack(
            resolved,
            project_dir=project_dir,
            secrets={k: pulumi.Output.secret(v) for k, v in (secrets or {}).items()},
            registry=registry,
        )

    return run_offline(program, stack=stack, mocks=mocks)
