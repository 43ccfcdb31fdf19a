"""The SageMaker pipeline-definition interpreter of `mlops-infra rehearse`.

Constructs: https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-steps.html
(step properties, ``Get``/``Std:Join``), retry policies:
https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-retry-policy.html
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mlops_infra.backends.aws._rehearse_definition import DefinitionInterpreter
from mlops_infra.rehearse import RehearsalError

_ARTIFACTS = {"Get": "Steps.a.ModelArtifacts.S3ModelArtifacts"}
DEFINITION: dict[str, Any] = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [{"Name": "Bucket", "Type": "String", "DefaultValue": "store"}],
    "PipelineExperimentConfig": {"ExperimentName": {"Get": "Execution.PipelineName"}},
    "Steps": [
        # b first, and without DependsOn: its property reference alone orders it after a.
        {"Name": "b", "Type": "Training", "Arguments": {"In": _ARTIFACTS}},
        {
            "Name": "a",
            "Type": "Training",
            "Arguments": {
                "Out": {
                    "Std:Join": {
                        "On": "/",
                        "Values": [
                            {"Get": "Parameters.Bucket"},
                            {"Get": "Execution.PipelineExecutionId"},
                        ],
                    }
                }
            },
            "RetryPolicies": [{"ExceptionType": ["SageMaker.CAPACITY_ERROR"], "MaxAttempts": 2}],
        },
    ],
}


def _interpreter(definition: dict[str, Any] = DEFINITION) -> DefinitionInterpreter:
    return DefinitionInterpreter(definition, "dev-diagnosis", "exec1")


def test_steps_run_after_the_steps_they_reference() -> None:
    steps = _interpreter().steps()
    assert [(s.name, s.depends_on) for s in steps] == [("a", ()), ("b", ("a",))]
    assert steps[0].retry_policies[0]["MaxAttempts"] == 2


def test_functions_and_references_resolve() -> None:
    interpreter = _interpreter()
    a, b = interpreter.steps()
    assert interpreter.resolve(a.arguments, step="a") == {"Out": "store/exec1"}
    with pytest.raises(RehearsalError, match=r"step 'b'.*Steps.a.ModelArtifacts.*has not run"):
        interpreter.resolve(b.arguments, step="b")
    interpreter.record("a", {"ModelArtifacts.S3ModelArtifacts": "s3://x/model.tar.gz"})
    assert interpreter.resolve(b.arguments, step="b") == {"In": "s3://x/model.tar.gz"}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    definition = copy.deepcopy(DEFINITION)
    target: Any = definition
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return definition


def _run_all(interpreter: DefinitionInterpreter) -> None:
    for step in interpreter.steps():
        interpreter.record(step.name, {"ModelArtifacts.S3ModelArtifacts": "s3://x"})
        interpreter.resolve(step.arguments, step=step.name)


@pytest.mark.parametrize(
    ("path", "value", "construct"),
    [
        (("Steps", 0, "Type"), "Processing", "Type Processing"),
        (("Steps", 0, "Arguments", "In"), {"Std:JsonGet": {}}, "Std:JsonGet"),
        (("Steps", 0, "Arguments", "In"), {"Get": "Steps.a.ProcessingOutputConfig"}, "Get Steps.a.ProcessingOutputConfig"),
        (("Steps", 1, "RetryPolicies", 0, "ExceptionType"), ["Step.ANYTHING"], "ExceptionType Step.ANYTHING"),
        (("Steps", 1, "Condition"), {}, "Condition"),
        (("ParallelismConfiguration",), {}, "ParallelismConfiguration"),
        (("Version",), "2023-01-01", "Version 2023-01-01"),
    ],
)  # fmt: skip
def test_unsupported_constructs_are_named(
    path: tuple[Any, ...], value: Any, construct: str
) -> None:
    with pytest.raises(RehearsalError, match="unsupported construct") as raised:
        _run_all(_interpreter(_with(path, value)))
    assert f"{construct!r}" in str(raised.value)


def test_unknown_dependency_is_an_error() -> None:
    definition = _with(("Steps", 1, "DependsOn"), ["nowhere"])
    with pytest.raises(RehearsalError, match=r"step 'a'.*depends on 'nowhere'"):
        _interpreter(definition).steps()
