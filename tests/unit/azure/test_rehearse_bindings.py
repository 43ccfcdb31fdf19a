"""Azure ML bindings as rehearse resolves them
(https://learn.microsoft.com/azure/machine-learning/reference-yaml-component-command,
https://learn.microsoft.com/azure/machine-learning/reference-yaml-job-pipeline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_infra.backends.azure._rehearse_bindings import bind_command, node_binding
from mlops_infra.rehearse import RehearsalError

OUTPUTS = {"featurize": {"output": "https://a.blob.core.windows.net/c/azureml/p/featurize/output/"}}


def test_parent_bindings_resolve() -> None:
    assert node_binding(
        "train", "${{parent.jobs.featurize.outputs.output}}", outputs=OUTPUTS, parent_inputs={}
    ).endswith("/featurize/output/")
    assert (
        node_binding("train", "${{ parent.inputs.data }}", outputs={}, parent_inputs={"data": "x"})
        == "x"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${{parent.jobs.train.outputs.output}}", "output 'output' of 'train', which has not run"),
        ("${{parent.inputs.missing}}", "the pipeline job has no input 'missing'"),
        ("${{parent.jobs.featurize.outputs.output.path}}", "unsupported construct"),
        ("${{name}}", "unsupported construct"),
    ],
)
def test_bad_parent_bindings_are_named(value: str, message: str) -> None:
    with pytest.raises(RehearsalError, match="step 'train'") as raised:
        node_binding("train", value, outputs=OUTPUTS, parent_inputs={})
    assert message in str(raised.value)


def test_command_bindings() -> None:
    command = "python -m x --input f=${{inputs.featurize}} --output ${{outputs.output}}"
    bound = bind_command(
        "train", command, inputs={"featurize": Path("/in/f")}, outputs={"output": Path("/out")}
    )
    assert bound == "python -m x --input f=/in/f --output /out"
    with pytest.raises(RehearsalError, match=r"uses \$\{\{inputs.featurize\}\} but the job binds"):
        bind_command("train", command, inputs={}, outputs={"output": Path("/out")})
    with pytest.raises(RehearsalError, match="unsupported construct"):
        bind_command("train", "echo ${{search_space.x}}", inputs={}, outputs={})
