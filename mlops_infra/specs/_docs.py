"""Field descriptions from attribute docstrings, read when a JSON Schema is generated.

Every spec documents its fields with a docstring under each attribute. pydantic's
``use_attribute_docstrings`` reads them while the class is built, which on Python 3.11
tokenizes and parses the source of every model at import (about 100 ms of a program's
start, for a schema that only ``mlops-infra schema`` and editors need). Here they are
read from the module's source, parsed once, only when a schema is generated, and added
where pydantic would have put them: the ``description`` of each property that has none.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
import textwrap
import typing
from collections.abc import Mapping
from typing import Any

from mlops_infra.python_source import parse_python

__all__ = ["attribute_docstrings", "describe_properties"]


@functools.lru_cache(maxsize=64)
def _module_tree(filename: str) -> ast.Module | None:
    try:
        with open(filename, "rb") as handle:  # noqa: PTH123 - a plain read of source
            return parse_python(handle.read(), filename)
    except (OSError, SyntaxError, ValueError):
        return None


def _local_class_node(cls: type[Any]) -> ast.ClassDef | None:
    """A class defined inside a function: found by :mod:`inspect` (slower, rarely needed)."""
    try:
        lines, _ = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    source = textwrap.dedent("".join(lines))
    try:
        tree = parse_python(source if not source.startswith((" ", "\t")) else "if 1:\n" + source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return node
    return None


def _class_node(cls: type[Any]) -> ast.ClassDef | None:
    if "<locals>" in cls.__qualname__:
        return _local_class_node(cls)
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    if not filename:
        return None
    tree = _module_tree(filename)
    body: list[ast.stmt] = tree.body if tree else []
    found: ast.ClassDef | None = None
    for part in cls.__qualname__.split("."):
        # The last definition wins, as it does when the module runs.
        matches = [node for node in body if isinstance(node, ast.ClassDef) and node.name == part]
        if not matches:
            return None
        found = matches[-1]
        body = found.body
    return found


def attribute_docstrings(cls: type[Any]) -> dict[str, str]:
    """The docstring under each annotated attribute defined in ``cls``'s own body.

    The rule of pydantic's ``use_attribute_docstrings``: a string statement right after an
    annotated assignment to a name documents that name (cleaned with ``inspect.cleandoc``).
    Empty when the source cannot be found.
    """
    node = _class_node(cls)
    if node is None:
        return {}
    docs: dict[str, str] = {}
    previous: ast.stmt | None = None
    for statement in node.body:
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            docs[previous.target.id] = inspect.cleandoc(statement.value.value)
        previous = statement
    return docs


def _field_docstring(cls: type[Any], name: str) -> str | None:
    """The docstring of field ``name`` from the nearest class that declares it."""
    for owner in cls.__mro__:
        if name in inspect.get_annotations(owner):
            return attribute_docstrings(owner).get(name)
    return None


def describe_properties(json_schema: dict[str, Any], cls: type[Any]) -> None:
    """Adds each field's attribute docstring as its ``description`` where it has none.

    Used as the ``json_schema_extra`` of :class:`~mlops_infra.specs.Spec`: pydantic calls it
    with each model's schema while generating one.
    """
    found: Any = json_schema.get("properties")
    if not isinstance(found, dict):
        return
    properties = typing.cast(dict[str, Any], found)
    fields: Mapping[str, Any] = getattr(cls, "model_fields", {})
    for name, field in fields.items():
        key = getattr(field, "alias", None) or name
        schema: Any = properties.get(key)
        if isinstance(schema, dict) and "description" not in schema:
            doc = _field_docstring(cls, name)
            if doc:
                schema["description"] = doc
