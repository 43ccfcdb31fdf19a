"""Reading stack specs from Pulumi stack files and config, with precise error paths.

A stack file keeps the spec under the project's config namespace::

    config:
      mlops:cloud: aws
      mlops:environment: prod
      mlops:stack:
        clusters:
          - {name: train, gpu: a100-80gb, gpu_count: 8}

Every problem is reported as ``<file>: <config path>: <message>``, where the path
names list items by their ``name`` (``mlops:stack.pipelines[churn].steps[train]``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mlops_infra.errors import SpecIssue, SpecValidationError
from mlops_infra.registry import Registry
from mlops_infra.specs.stack import StackSpec

__all__ = [
    "CONFIG_NAMESPACE",
    "TOP_LEVEL_KEYS",
    "load_stack_file",
    "read_stack_file",
    "spec_from_config",
]

CONFIG_NAMESPACE = "mlops"
"""The Pulumi project name, and so the namespace of our config keys."""

TOP_LEVEL_KEYS = ("cloud", "environment")
"""Spec fields set as their own config keys (``mlops:cloud``); the rest live in ``mlops:stack``."""

_STACK_KEY = "stack"
_SECRET_KEY_FIELDS = ("admin_password_config_key", "password_config_key")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate mapping keys instead of keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = typing.cast(object, loader.construct_object(key_node))  # pyright: ignore[reportUnknownMemberType]
        if key in seen:
            msg = f"duplicate key {key!r}"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


_fast_loader: type[yaml.CSafeLoader] | None = None
if yaml.__with_libyaml__:  # PyYAML built with libyaml (its wheels are)

    class _FastUniqueKeyLoader(yaml.CSafeLoader):
        """:class:`_UniqueKeyLoader` over libyaml's parser: 30 times faster on a stack file."""

    _FastUniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
    )
    _fast_loader = _FastUniqueKeyLoader


def _load_yaml(text: str) -> object:
    """Parses with libyaml when PyYAML has it; an invalid document is parsed again in Python.

    Both build the document with the same constructors and resolver, so a valid file gives
    the same values; the second parse keeps the error messages (line, column, problem)
    exactly those of PyYAML's own parser. Without libyaml the pure-Python parser is used.
    """
    if _fast_loader is not None:
        try:
            return yaml.load(text, Loader=_fast_loader)  # noqa: S506 - a CSafeLoader subclass
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_stack_file(path: Path) -> dict[str, Any]:
    """Returns the ``config:`` mapping of a stack file; raises :class:`SpecValidationError`."""
    source = str(path)
    try:
        document = _load_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecValidationError(
            [SpecIssue("", f"cannot read: {error.strerror}")], source
        ) from None
    except yaml.YAMLError as error:
        raise SpecValidationError([SpecIssue("", _yaml_problem(error))], source) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise SpecValidationError([SpecIssue("", "a stack file must be a YAML mapping")], source)
    config: object = typing.cast(dict[str, Any], document).get("config") or {}
    if not isinstance(config, dict):
        raise SpecValidationError([SpecIssue("config", "must be a mapping")], source)
    return typing.cast(dict[str, Any], config)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line: where in the file, and what is wrong."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return "invalid YAML: " + " ".join(str(error).split())


def load_stack_file(path: Path, *, registry: Registry | None = None) -> StackSpec:
    """Reads and validates the stack spec in a ``Pulumi.<stack>.yaml`` file.

    Raises:
        SpecValidationError: with one issue per problem, each naming the config path.
    """
    config = read_stack_file(path)
    issues = _check_config_keys(config)
    try:
        spec = spec_from_config(config, registry=registry)
    except SpecValidationError as error:
        raise SpecValidationError([*issues, *error.issues], str(path)) from None
    issues += _check_secret_references(spec, config)
    if issues:
        raise SpecValidationError(issues, str(path))
    return spec


def spec_from_config(config: Mapping[str, Any], *, registry: Registry | None = None) -> StackSpec:
    """Builds the stack spec from config values keyed ``mlops:<key>``.

    Keys of other namespaces (``aws:region``) are ignored. Raises
    :class:`SpecValidationError` with config paths.
    """
    prefix = f"{CONFIG_NAMESPACE}:"
    stack: object = config.get(prefix + _STACK_KEY) or {}
    if not isinstance(stack, dict):
        raise SpecValidationError(
            [SpecIssue(prefix + _STACK_KEY, f"must be a mapping; got {type(stack).__name__}")]
        )
    data: dict[str, Any] = dict(typing.cast(dict[str, Any], stack))
    issues: list[SpecIssue] = [
        SpecIssue(
            f"{prefix}{_STACK_KEY}.{key}",
            f"set {key!r} with its own config key {prefix}{key}, not inside {prefix}{_STACK_KEY}",
        )
        for key in TOP_LEVEL_KEYS
        if key in data
    ]
    for key in TOP_LEVEL_KEYS:
        if prefix + key in config:
            data[key] = config[prefix + key]
    if issues:
        raise SpecValidationError(issues)
    try:
        return StackSpec.model_validate(data, context={"registry": registry} if registry else None)
    except ValidationError as error:
        raise SpecValidationError([_issue(detail, data) for detail in error.errors()]) from None


def _check_config_keys(config: Mapping[str, Any]) -> list[SpecIssue]:
    prefix = f"{CONFIG_NAMESPACE}:"
    allowed = {prefix + key for key in (*TOP_LEVEL_KEYS, _STACK_KEY)}
    referenced = _referenced_secret_keys(config.get(prefix + _STACK_KEY))
    return [
        SpecIssue(
            key,
            f"unknown config key; allowed: {', '.join(sorted(allowed))}, and secret keys "
            "named by a *_config_key field",
        )
        for key in config
        if key.startswith(prefix) and key not in allowed and key not in referenced
    ]


def _referenced_secret_keys(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in typing.cast(dict[str, Any], node).items():
            if key in _SECRET_KEY_FIELDS and isinstance(value, str):
                found.add(value if ":" in value else f"{CONFIG_NAMESPACE}:{value}")
            else:
                found |= _referenced_secret_keys(value)
    elif isinstance(node, list):
        for item in typing.cast(list[Any], node):
            found |= _referenced_secret_keys(item)
    return found


def _check_secret_references(spec: StackSpec, config: Mapping[str, Any]) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    raw_stack: object = config.get(f"{CONFIG_NAMESPACE}:{_STACK_KEY}")
    for key in sorted(_referenced_secret_keys(raw_stack)):
        value = config.get(key)
        if value is None:
            issues.append(
                SpecIssue(
                    key,
                    "is referenced by the spec but not set; "
                    f"run: pulumi config set --secret {key} ...",
                )
            )
        elif not (isinstance(value, dict) and "secure" in value):
            issues.append(
                SpecIssue(
                    key,
                    "holds a plaintext value; store it encrypted: "
                    f"pulumi config set --secret {key} ...",
                )
            )
    del spec
    return issues


def _issue(detail: ErrorDetails, data: Mapping[str, Any]) -> SpecIssue:
    loc = tuple(detail["loc"])
    return SpecIssue(_render_path(loc, data), _message(detail, loc))


def _render_path(loc: Sequence[int | str], data: Mapping[str, Any]) -> str:
    prefix = f"{CONFIG_NAMESPACE}:"
    node: object
    if loc and loc[0] in TOP_LEVEL_KEYS:
        path, rest, node = prefix + str(loc[0]), loc[1:], data.get(str(loc[0]))
    else:
        path, rest, node = prefix + _STACK_KEY, loc, dict(data)
    for part in rest:
        if isinstance(part, int):
            item: object = None
            items = typing.cast(list[Any], node) if isinstance(node, list) else []
            if 0 <= part < len(items):
                item = items[part]
            name = _item_name(item)
            # Name items, unless the name is ambiguous (a duplicate): then use the index.
            unique = name is not None and [_item_name(i) for i in items].count(name) == 1
            path += f"[{name}]" if unique else f"[{part}]"
            node = typing.cast(object, item)
        else:
            path += f".{part}"
            node = typing.cast(dict[str, Any], node).get(part) if isinstance(node, dict) else None
    return path


def _item_name(item: object) -> str | None:
    if isinstance(item, dict):
        name = typing.cast(dict[str, Any], item).get("name")
        if isinstance(name, str) and name:
            return name
    return None


def _message(detail: ErrorDetails, loc: Sequence[int | str]) -> str:  # noqa: PLR0911 - one case each
    kind = detail["type"]
    given = detail.get("input")
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key {loc[-1]!r}" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "is required"
    if kind == "semantic":
        return str(ctx.get("message", detail["msg"]))
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    if kind == "literal_error":
        return f"{given!r} is not allowed; allowed: {ctx.get('expected')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"{given!r} is out of range; {_lowercase_first(detail['msg'])}"
    return f"{detail['msg']}; got {_short(given)}"


def _lowercase_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _allowed_keys(loc: Sequence[int | str]) -> list[str]:
    """Returns the field names of the spec model found at ``loc`` (empty when unknown)."""
    model: type[BaseModel] | None = StackSpec
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    return sorted(model.model_fields) if model else []


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, tuple, list, typing.Annotated):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
