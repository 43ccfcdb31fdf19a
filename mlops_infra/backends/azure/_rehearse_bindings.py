"""Azure ML data bindings, for rehearse: ``${{...}}`` in pipeline jobs and commands.

Pipeline job nodes bind inputs to ``${{parent.inputs.<name>}}`` and
``${{parent.jobs.<step>.outputs.<name>}}``; a command component's command refers to
``${{inputs.<name>}}`` and ``${{outputs.<name>}}``, which Azure ML replaces with the mounted
paths (https://learn.microsoft.com/azure/machine-learning/reference-yaml-component-command).
Every other ``${{...}}`` form is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from mlops_infra.rehearse.errors import RehearsalError, unsupported

__all__ = ["bind_command", "node_binding"]

_BINDING = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_PARENT_OUTPUT = re.compile(r"^parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)$")
_PARENT_INPUT = re.compile(r"^parent\.inputs\.([A-Za-z0-9_]+)$")


def node_binding(
    step: str,
    value: str,
    *,
    outputs: Mapping[str, Mapping[str, str]],
    parent_inputs: Mapping[str, str],
) -> str:
    """The location a ``${{parent...}}`` input binding names.

    Raises:
        RehearsalError: the binding names a step or output that has not run, or an
            unsupported form.
    """
    match = _BINDING.fullmatch(value.strip())
    if match is None:
        raise unsupported(step, value, f"an input of job {step!r} (not a binding)")
    expression = match[1]
    if found := _PARENT_OUTPUT.match(expression):
        upstream, name = found[1], found[2]
        if upstream not in outputs or name not in outputs[upstream]:
            msg = f"input {value} names output {name!r} of {upstream!r}, which has not run"
            raise RehearsalError(step, "Azure ML pipeline job", msg)
        return outputs[upstream][name]
    if found := _PARENT_INPUT.match(expression):
        if found[1] not in parent_inputs:
            msg = f"input {value}: the pipeline job has no input {found[1]!r}"
            raise RehearsalError(step, "Azure ML pipeline job", msg)
        return parent_inputs[found[1]]
    raise unsupported(step, value, f"an input of job {step!r}")


def bind_command(
    step: str, command: str, *, inputs: Mapping[str, Path], outputs: Mapping[str, Path]
) -> str:
    """``command`` with ``${{inputs.x}}``/``${{outputs.y}}`` replaced by their paths.

    Raises:
        RehearsalError: the command names an input or output the job does not bind (the
            contract Azure ML enforces at submission), or an unsupported form.
    """

    def replace(match: re.Match[str]) -> str:
        kind, _, name = match[1].partition(".")
        bound = {"inputs": inputs, "outputs": outputs}.get(kind)
        if bound is None or not name:
            raise unsupported(step, match[0], f"the command of {step!r}")
        if name not in bound:
            msg = f"the command uses {match[0]} but the job binds {kind} {sorted(bound)}"
            raise RehearsalError(step, "Azure ML command component", msg)
        return str(bound[name])

    return _BINDING.sub(replace, command)
