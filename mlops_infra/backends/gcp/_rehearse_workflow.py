"""A Cloud Workflows interpreter, for rehearse: the constructs the backend generates.

Steps with ``assign``, ``call`` (subworkflows; ``http.get``/``http.post``; ``sys.sleep``,
``sys.log``; the Vertex AI ``customJobs`` connector) with ``args`` and ``result``,
``switch`` (``condition`` with ``next``/``return``/``raise``), ``next`` (a step, ``end``),
``return`` and ``raise``. Anything else is refused by name. HTTP and connector calls go to
a handler (the rehearsal's Vertex AI fake); ``sys.sleep`` does not sleep.
https://cloud.google.com/workflows/docs/reference/syntax
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_infra.backends.gcp._rehearse_expressions import resolve
from mlops_infra.rehearse.errors import RehearsalError, unsupported

__all__ = ["CallHandler", "WorkflowInterpreter", "WorkflowRaised"]

CallHandler = Callable[[str, dict[str, Any]], Any]
"""Answers a call to an HTTP function or connector: ``(function, resolved args) → result``."""

_STEP_KEYS = {"assign", "call", "args", "result", "switch", "next", "return", "raise"}
_SWITCH_KEYS = {"condition", "next", "return", "raise"}
_HTTP = {"http.get", "http.post", "http.put", "http.delete", "http.request"}
_CONNECTOR_PREFIX = "googleapis."
_MAX_STEPS = 100_000


class WorkflowRaised(Exception):  # noqa: N818 - Workflows' own word for it
    """A ``raise`` step (or an error) ended the execution.

    Attributes:
        value: What was raised.
        step: The step that raised it.
    """

    def __init__(self, value: Any, step: str) -> None:
        """Creates the error."""
        super().__init__(str(value))
        self.value = value
        self.step = step


@dataclass(frozen=True)
class _Return:
    value: Any


@dataclass
class WorkflowInterpreter:
    """Runs a workflow definition.

    Args:
        definition: The workflow (parsed YAML/JSON: ``main`` and subworkflows).
        environment: What ``sys.get_env`` returns (built-in and user variables).
        handler: Answers HTTP and connector calls.
    """

    definition: Mapping[str, Any]
    environment: Mapping[str, str]
    handler: CallHandler

    def run(self, arguments: Any = None) -> Any:
        """Runs ``main``; returns what it returns.

        Raises:
            WorkflowRaised: the execution raised.
            RehearsalError: an unsupported construct.
        """
        main = typing.cast(dict[str, Any], self.definition.get("main") or {})
        params = typing.cast(list[str], main.get("params") or [])
        variables: dict[str, Any] = {params[0]: arguments} if params else {}
        return self._run_steps("main", main, variables)

    def _run_steps(self, name: str, body: Mapping[str, Any], variables: dict[str, Any]) -> Any:
        steps = typing.cast(list[dict[str, Any]], body.get("steps") or [])
        names = [next(iter(s)) for s in steps]
        index, executed = 0, 0
        while index < len(steps):
            executed += 1
            if executed > _MAX_STEPS:
                msg = f"more than {_MAX_STEPS} steps: a loop that never ends"
                raise RehearsalError(f"{name}.{names[index]}", "Cloud Workflows", msg)
            step_name = names[index]
            outcome = self._step(f"{name}.{step_name}", steps[index][step_name], variables)
            if isinstance(outcome, _Return):
                return outcome.value
            if outcome is None:
                index += 1
            elif outcome == "end":
                return None
            elif outcome in names:
                index = names.index(outcome)
            else:
                raise unsupported(step_name, f"next: {outcome}", f"{name}.{step_name}")
        return None

    def _step(self, where: str, step: Mapping[str, Any], variables: dict[str, Any]) -> Any:
        for key in step:
            if key not in _STEP_KEYS:
                raise unsupported(where, key, where)

        def value(raw: Any) -> Any:
            return resolve(raw, variables, self.environment, step=where)

        for assignment in typing.cast(list[dict[str, Any]], step.get("assign") or []):
            for target, raw in assignment.items():
                variables[target] = value(raw)
        if "call" in step:
            result = self._call(where, str(step["call"]), value(step.get("args") or {}))
            if "result" in step:
                variables[str(step["result"])] = result
        if "switch" in step:
            for case in typing.cast(list[dict[str, Any]], step["switch"]):
                for key in case:
                    if key not in _SWITCH_KEYS:
                        raise unsupported(where, f"switch {key}", where)
                if value(case["condition"]):
                    return self._outcome(where, case, value)
        return self._outcome(where, step, value)

    @staticmethod
    def _outcome(where: str, block: Mapping[str, Any], value: Callable[[Any], Any]) -> Any:
        if "raise" in block:
            raise WorkflowRaised(value(block["raise"]), where)
        if "return" in block:
            return _Return(value(block["return"]))
        return block.get("next")

    def _call(self, where: str, function: str, args: dict[str, Any]) -> Any:
        if function in {"sys.sleep", "sys.log"}:
            return None
        if function in _HTTP or function.startswith(_CONNECTOR_PREFIX):
            return self.handler(function, args)
        sub = self.definition.get(function)
        if not isinstance(sub, dict):
            raise unsupported(where, f"call {function}", where)
        body = typing.cast(dict[str, Any], sub)
        params = typing.cast(list[Any], body.get("params") or [])
        scope: dict[str, Any] = {}
        for param in params:
            if isinstance(param, dict):  # a parameter with a default value
                default = typing.cast(dict[str, Any], param)
                name, fallback = next(iter(default.items()))
                scope[name] = args.get(name, fallback)
            elif str(param) in args:
                scope[str(param)] = args[str(param)]
            else:
                raise RehearsalError(where, "Cloud Workflows", f"{function}: no argument {param}")
        return self._run_steps(function, body, scope)
