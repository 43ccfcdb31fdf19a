"""An interpreter of SageMaker pipeline definitions (schema ``2020-12-01``), for rehearse.

Covers every construct :mod:`~mlops_infra.backends.aws.pipeline_definition` generates and
refuses every other one by name: ``Training`` steps, ``DependsOn``, retry policies, the
``Get`` property references ``Execution.*``, ``Parameters.*`` and
``Steps.<step>.ModelArtifacts.S3ModelArtifacts`` / ``.TrainingJobName``, and the
``Std:Join`` function. Steps run in dependency order: explicit ``DependsOn`` plus the
steps a property reference names (SageMaker infers those edges too).

References: https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-steps.html
(step properties), https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-retry-policy.html
(retry policies).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_infra.rehearse.errors import RehearsalError, unsupported
from mlops_infra.specs.pipeline import topological_order

__all__ = ["RETRYABLE_EXCEPTIONS", "DefinitionInterpreter", "PipelineStep"]

_TOP_LEVEL = {"Version", "Metadata", "Parameters", "PipelineExperimentConfig", "Steps"}
_STEP_KEYS = {"Name", "Type", "Arguments", "DependsOn", "RetryPolicies", "DisplayName",
              "Description"}  # fmt: skip
_STEP_TYPES = {"Training"}
_RETRY_KEYS = {"ExceptionType", "IntervalSeconds", "BackoffRate", "MaxAttempts", "ExpireAfterMin"}
RETRYABLE_EXCEPTIONS = frozenset(
    {
        "Step.SERVICE_FAULT",
        "Step.THROTTLING",
        "SageMaker.JOB_INTERNAL_ERROR",
        "SageMaker.CAPACITY_ERROR",
        "SageMaker.RESOURCE_LIMIT",
    }
)
"""Exception types a SageMaker retry policy may name (pipelines-retry-policy.html)."""
_STEP_PROPERTIES = {"ModelArtifacts.S3ModelArtifacts", "TrainingJobName"}
_EXECUTION_PROPERTIES = {
    "PipelineExecutionId", "PipelineExecutionArn", "PipelineName", "PipelineArn",
}  # fmt: skip


@dataclass(frozen=True)
class PipelineStep:
    """One step of the definition.

    Attributes:
        name: Step name.
        type: Step type (``Training``).
        arguments: Its arguments, unresolved.
        depends_on: Steps it waits for (explicit and through property references).
        retry_policies: Its retry policies, as written.
    """

    name: str
    type: str
    arguments: dict[str, Any]
    depends_on: tuple[str, ...]
    retry_policies: tuple[dict[str, Any], ...] = ()


@dataclass
class DefinitionInterpreter:
    """Orders a definition's steps and resolves their arguments as an execution would.

    Args:
        definition: The pipeline definition (parsed JSON).
        pipeline_name: The pipeline's name (``Execution.PipelineName``).
        execution_id: This execution's id.
        parameters: Parameter values given to the execution (defaults otherwise).
    """

    definition: Mapping[str, Any]
    pipeline_name: str
    execution_id: str
    parameters: Mapping[str, Any] = field(default_factory=dict[str, Any])
    _properties: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])

    def steps(self) -> list[PipelineStep]:
        """The steps in an order that respects every dependency.

        Raises:
            RehearsalError: a construct is unsupported or a dependency is unknown.
        """
        for key in self.definition:
            if key not in _TOP_LEVEL:
                raise unsupported("pipeline", key, "the definition's top level")
        version = self.definition.get("Version")
        if version != "2020-12-01":
            raise unsupported("pipeline", f"Version {version}", "the definition")
        raw_steps = typing.cast(list[dict[str, Any]], self.definition.get("Steps") or [])
        by_name: dict[str, PipelineStep] = {}
        for raw in raw_steps:
            name = str(raw.get("Name"))
            for key in raw:
                if key not in _STEP_KEYS:
                    raise unsupported(name, key, f"step {name!r}")
            if raw.get("Type") not in _STEP_TYPES:
                raise unsupported(name, f"Type {raw.get('Type')}", f"step {name!r}")
            policies = tuple(typing.cast(list[dict[str, Any]], raw.get("RetryPolicies") or []))
            for policy in policies:
                self._check_retry(name, policy)
            arguments = typing.cast(dict[str, Any], raw.get("Arguments") or {})
            explicit = [str(d) for d in typing.cast(list[Any], raw.get("DependsOn") or [])]
            referenced = sorted(_referenced_steps(arguments))
            by_name[name] = PipelineStep(
                name=name,
                type=str(raw["Type"]),
                arguments=arguments,
                depends_on=tuple(dict.fromkeys([*explicit, *referenced])),
                retry_policies=policies,
            )
        for step in by_name.values():
            for upstream in step.depends_on:
                if upstream not in by_name:
                    msg = f"depends on {upstream!r}, which is not a step of the definition"
                    raise RehearsalError(step.name, "SageMaker pipeline definition", msg)
        order = topological_order({s.name: list(s.depends_on) for s in by_name.values()})
        return [by_name[name] for name in order]

    @staticmethod
    def _check_retry(step: str, policy: Mapping[str, Any]) -> None:
        for key in policy:
            if key not in _RETRY_KEYS:
                raise unsupported(step, key, f"a retry policy of step {step!r}")
        for kind in typing.cast(list[str], policy.get("ExceptionType") or []):
            if kind not in RETRYABLE_EXCEPTIONS:
                raise unsupported(step, f"ExceptionType {kind}", f"a retry policy of {step!r}")

    def record(self, step: str, properties: Mapping[str, Any]) -> None:
        """Keeps a finished step's properties (what later references resolve to)."""
        self._properties[step] = dict(properties)

    def resolve(self, value: Any, *, step: str, where: str = "Arguments") -> Any:
        """``value`` with every ``Get`` and ``Std:Join`` evaluated.

        Raises:
            RehearsalError: an unsupported function or reference, or a reference to a step
                that has not run.
        """
        if isinstance(value, list):
            items = typing.cast(list[Any], value)
            return [self.resolve(v, step=step, where=f"{where}[{i}]") for i, v in enumerate(items)]
        if not isinstance(value, dict):
            return value
        mapping = typing.cast(dict[str, Any], value)
        if set(mapping) == {"Get"}:
            return self._get(str(mapping["Get"]), step=step, where=where)
        if set(mapping) == {"Std:Join"}:
            join = typing.cast(dict[str, Any], mapping["Std:Join"])
            values = self.resolve(join.get("Values") or [], step=step, where=where)
            return str(join.get("On", "")).join(str(v) for v in values)
        for key in mapping:
            if ":" in key:
                raise unsupported(step, key, f"{step}.{where}")
        return {k: self.resolve(v, step=step, where=f"{where}.{k}") for k, v in mapping.items()}

    def _get(self, reference: str, *, step: str, where: str) -> Any:
        head, _, rest = reference.partition(".")
        if head == "Execution" and rest in _EXECUTION_PROPERTIES:
            return {
                "PipelineExecutionId": self.execution_id,
                "PipelineExecutionArn": f"rehearse:execution/{self.execution_id}",
                "PipelineName": self.pipeline_name,
                "PipelineArn": f"rehearse:pipeline/{self.pipeline_name}",
            }[rest]
        if head == "Parameters":
            return self._parameter(rest, step=step, where=where)
        if head == "Steps":
            upstream, _, prop = rest.partition(".")
            if prop not in _STEP_PROPERTIES:
                raise unsupported(step, f"Get {reference}", f"{step}.{where}")
            if upstream not in self._properties:
                msg = f"{where} reads {reference} but step {upstream!r} has not run"
                raise RehearsalError(step, "SageMaker pipeline definition", msg)
            return self._properties[upstream][prop]
        raise unsupported(step, f"Get {reference}", f"{step}.{where}")

    def _parameter(self, name: str, *, step: str, where: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        declared = typing.cast(list[dict[str, Any]], self.definition.get("Parameters") or [])
        for parameter in declared:
            if parameter.get("Name") == name and "DefaultValue" in parameter:
                return parameter["DefaultValue"]
        msg = f"{where} reads parameter {name!r}, which has no value and no default"
        raise RehearsalError(step, "SageMaker pipeline definition", msg)


def _referenced_steps(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, list):
        for item in typing.cast(list[Any], value):
            found |= _referenced_steps(item)
    elif isinstance(value, dict):
        mapping = typing.cast(dict[str, Any], value)
        reference = mapping.get("Get")
        if len(mapping) == 1 and isinstance(reference, str) and reference.startswith("Steps."):
            found.add(reference.split(".")[1])
        else:
            for item in mapping.values():
                found |= _referenced_steps(item)
    return found
