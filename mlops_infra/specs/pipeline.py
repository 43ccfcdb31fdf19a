"""Pipelines: a DAG of steps, deployed as an immutable, content-versioned package."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Self

from pydantic import Field, field_validator, model_validator

from mlops_infra.specs._base import JsonScalar, Name, check_unique_names, raise_issues
from mlops_infra.specs._flavored import FlavoredSpec
from mlops_infra.specs.data import DataRef
from mlops_infra.specs.schedule import ScheduleSpec
from mlops_infra.specs.workload import (
    WorkloadSpec,
    check_image,
    check_model_name,
    check_source_dir,
)

__all__ = ["PipelineSpec", "StepSpec", "find_cycle", "topological_order"]

_VERSION_RE = re.compile(r"^[0-9a-f]{12,64}$")


class StepSpec(WorkloadSpec):
    """One step of a pipeline: a component run after the steps it depends on."""

    name: Name
    """Step name, unique within the pipeline."""

    depends_on: tuple[Name, ...] = ()
    """Steps that must finish first; their outputs are this step's inputs."""

    retries: int = Field(default=0, ge=0, le=10)
    """Times a failed step is retried before the run fails."""


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Returns one dependency cycle as a path (first node repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in edges.get(node, ()):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep in edges and state.get(dep) is None:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Orders nodes so that each comes after its dependencies; ties keep declaration order."""
    done: list[str] = []
    placed: set[str] = set()
    while len(done) < len(edges):
        progressed = False
        for node, deps in edges.items():
            if node not in placed and all(dep in placed for dep in deps):
                done.append(node)
                placed.add(node)
                progressed = True
        if not progressed:
            msg = f"dependency cycle: {' -> '.join(find_cycle(edges) or [])}"
            raise ValueError(msg)
    return done


class PipelineSpec(FlavoredSpec):
    """A versioned ML pipeline: steps, their code, parameters, data and schedule.

    Its version is a content hash of everything that determines its behaviour; a
    deployed version is immutable, and ``version`` pins an older one (rollback).
    """

    name: Name
    """Pipeline name."""

    steps: tuple[StepSpec, ...] = Field(min_length=1)
    """The steps; ``depends_on`` makes them a DAG."""

    source_dir: str = "components"
    """Directory of the component code, relative to the project root."""

    parameters: dict[str, JsonScalar] = Field(default_factory=dict[str, JsonScalar])
    """Parameters every step receives (a step's own parameters win)."""

    data: dict[str, DataRef] = Field(default_factory=dict[str, DataRef])
    """Named datasets the pipeline reads; part of the version."""

    image: str | None = None
    """Default container image of the steps; default: the runtime image the stack builds
    (mlops-infra, its dependencies and the components' requirement files)."""

    model_name: str | None = None
    """Registered model the pipeline produces; default: the pipeline's name."""

    schedule: ScheduleSpec | None = None
    """Run on a schedule too."""

    run_on_change: bool = True
    """Run when ``pulumi up`` deploys a new version (code, config or data changed): exactly
    one run per version, started by a resource keyed by the version."""

    wait_for_run: bool | None = None
    """``pulumi up`` waits for that run (printing progress) and hands the model version it
    registered to the endpoints' gates in the same ``up``; without waiting, the next ``up``
    picks the model up. ``None``: the environment's default (wait in ``local`` and
    ``development``, not in ``staging`` and ``production``). The local target always runs
    inside ``up``."""

    run_timeout_s: int = Field(default=7200, gt=0, le=7 * 24 * 3600)
    """How long ``up`` waits for the run before failing (when it waits); the run itself is
    not stopped, and the next ``up`` looks at it again instead of starting another."""

    version: str | None = None
    """Deploy this existing version instead of the current source (rollback); no retraining."""

    _image = field_validator("image")(check_image)
    _source_dir = field_validator("source_dir")(check_source_dir)
    _model_name = field_validator("model_name")(check_model_name)

    @property
    def registered_model(self) -> str:
        """The registered model name this pipeline produces."""
        return self.model_name or self.name

    @field_validator("version")
    @classmethod
    def _version_format(cls, value: str | None) -> str | None:
        if value is not None and not _VERSION_RE.fullmatch(value):
            msg = f"{value!r} is not a pipeline version; allowed: 12-64 lowercase hex digits"
            raise ValueError(msg)
        return value

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, value: tuple[StepSpec, ...]) -> tuple[StepSpec, ...]:
        check_unique_names(value, "step")
        return value

    @model_validator(mode="after")
    def _dag(self) -> Self:
        names = [step.name for step in self.steps]
        issues: list[tuple[tuple[str | int, ...], str]] = []
        for index, step in enumerate(self.steps):
            for dep_index, dep in enumerate(step.depends_on):
                if dep == step.name:
                    issues.append(
                        (
                            ("steps", index, "depends_on", dep_index),
                            f"step {dep!r} depends on itself",
                        )
                    )
                elif dep not in names:
                    issues.append(
                        (
                            ("steps", index, "depends_on", dep_index),
                            f"step {step.name!r} depends on {dep!r}, which is not a step of "
                            f"this pipeline; steps: {', '.join(names)}",
                        )
                    )
        if not issues:
            cycle = find_cycle({step.name: list(step.depends_on) for step in self.steps})
            if cycle:
                first = names.index(cycle[0])
                issues.append(
                    (("steps", first, "depends_on"), f"dependency cycle: {' -> '.join(cycle)}")
                )
        raise_issues(issues, title="PipelineSpec")
        return self

    def ordered_steps(self) -> list[StepSpec]:
        """Returns the steps in an order that runs each after its dependencies."""
        by_name = {step.name: step for step in self.steps}
        order = topological_order({step.name: list(step.depends_on) for step in self.steps})
        return [by_name[name] for name in order]

    def ancestors(self, step: str) -> list[str]:
        """Every step ``step`` depends on, directly or not, in :meth:`ordered_steps` order.

        A step's inputs are all of their outputs, on every runner.
        """
        parents = {s.name: s.depends_on for s in self.steps}
        found: set[str] = set()
        pending = list(parents[step])
        while pending:
            upstream = pending.pop()
            if upstream not in found:
                found.add(upstream)
                pending.extend(parents[upstream])
        return [s.name for s in self.ordered_steps() if s.name in found]
