"""Cloud Workflows expressions (``${...}``), evaluated for rehearse.

The subset the backend generates, and nothing else: literals, variables, map fields
(``a.b.c``, ``a["b"]``), ``+ - * /``, comparisons, ``and``/``or``/``not``, and the
functions ``sys.get_env``, ``default``, ``string``, ``int``, ``len``. Workflows' expression
syntax is parsed with Python's (identical for these forms); any other form is refused by
name. https://cloud.google.com/workflows/docs/reference/syntax/expressions
"""

from __future__ import annotations

import ast
import operator
import typing
from collections.abc import Callable, Mapping
from typing import Any

from mlops_infra.python_source import parse_python
from mlops_infra.rehearse.errors import RehearsalError, unsupported

__all__ = ["evaluate", "is_expression", "resolve"]

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: lambda a, b: a / b, ast.Mod: operator.mod,
}  # fmt: skip
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
}  # fmt: skip


def is_expression(value: object) -> bool:
    """Whether ``value`` is a whole-string ``${...}`` expression."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def evaluate(
    text: str, variables: Mapping[str, Any], environment: Mapping[str, str], *, step: str
) -> Any:
    """Evaluates ``${...}`` ``text``.

    Raises:
        RehearsalError: an unsupported form, an unknown variable or a missing map key.
    """
    source = text[2:-1]
    try:
        tree = parse_python(source, "<expression>", "eval")
    except SyntaxError as error:
        raise unsupported(step, text, f"step {step!r} (not a supported expression)") from error
    return _Evaluator(variables, environment, step, text).visit(tree.body)


def resolve(value: Any, variables: Mapping[str, Any], environment: Mapping[str, str], *,
            step: str) -> Any:  # fmt: skip
    """``value`` with every expression in it (at any depth) evaluated."""
    if is_expression(value):
        return evaluate(str(value), variables, environment, step=step)
    if isinstance(value, list):
        return [
            resolve(v, variables, environment, step=step) for v in typing.cast(list[Any], value)
        ]
    if isinstance(value, dict):
        mapping = typing.cast(dict[str, Any], value)
        return {k: resolve(v, variables, environment, step=step) for k, v in mapping.items()}
    return value


class _Evaluator:
    def __init__(
        self, variables: Mapping[str, Any], environment: Mapping[str, str], step: str, text: str
    ) -> None:
        self._variables = variables
        self._environment = environment
        self._step = step
        self._text = text

    def _error(self, detail: str) -> RehearsalError:
        return RehearsalError(self._step, "Workflows expression", f"{self._text}: {detail}")

    def visit(self, node: ast.expr) -> Any:  # noqa: PLR0911, PLR0912 - one branch per node type
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in {"true", "True"}:
                return True
            if node.id in {"false", "False"}:
                return False
            if node.id == "null":
                return None
            if node.id not in self._variables:
                raise self._error(f"variable {node.id!r} is not defined")
            return self._variables[node.id]
        if isinstance(node, ast.Attribute):
            return self._field(self.visit(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            return self._field(self.visit(node.value), self.visit(node.slice))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.visit(node.left), self.visit(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            left, right = self.visit(node.left), self.visit(node.comparators[0])
            return _COMPARE[type(node.ops[0])](left, right)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self.visit(v) for v in node.values)
            return any(self.visit(v) for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.visit(node.operand)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise unsupported(self._step, type(node).__name__, self._text)

    def _field(self, container: Any, key: Any) -> Any:
        if isinstance(container, dict):
            mapping = typing.cast(dict[Any, Any], container)
            if key not in mapping:
                known = sorted(str(k) for k in mapping)
                raise self._error(f"key {key!r} not found (keys: {known})")
            return mapping[key]
        if isinstance(container, list) and isinstance(key, int):
            return typing.cast(list[Any], container)[key]
        raise self._error(f"cannot read {key!r} of {type(typing.cast(object, container)).__name__}")

    def _call(self, node: ast.Call) -> Any:
        name = ast.unparse(node.func)
        args = [self.visit(a) for a in node.args]
        if name == "sys.get_env":
            return self._environment.get(str(args[0]))
        if name == "default":
            return args[1] if args[0] is None else args[0]
        if name == "string":
            return str(args[0])
        if name == "int":
            return int(args[0])
        if name == "len":
            return len(args[0])
        raise unsupported(self._step, f"function {name}", self._text)
