"""The plan: what one stack's program registers, as plain, masked, deterministic data.

A :class:`Plan` is what ``mlops-infra plan`` writes (JSON, sorted keys) and what
``mlops-infra diff`` and ``mlops-infra check`` read. Nothing in it is secret: secret
inputs and outputs are replaced by ``[secret]`` before a plan is built.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_infra.errors import MlopsError
from mlops_infra.plan.facts import StackFacts

__all__ = [
    "PLAN_FORMAT",
    "Plan",
    "PlanFormatError",
    "PlannedResource",
    "dump_plan",
    "load_plan",
    "plan_from_dict",
    "plan_to_dict",
]

PLAN_FORMAT = 1
"""Version of the plan file format; bumped only with a reader for the old one."""


class PlanFormatError(MlopsError):
    """A plan file cannot be read: not JSON, or not a plan of a format we know."""


@dataclass(frozen=True)
class PlannedResource:
    """One resource the program registers, with its (masked) inputs and resource options.

    Attributes:
        urn: URN; encodes the stack, project, parent type chain, type and name.
        type: Type token, e.g. ``random:index/randomPet:RandomPet``, ``mlops:index:Pipeline``.
        name: Logical name.
        parent: Parent URN; ``None`` for children of the stack.
        custom: ``False`` for component resources.
        inputs: Inputs, secrets masked, paths and numbers normalized.
        protect: ``protect`` option.
        retain_on_delete: ``retain_on_delete`` option; ``None`` where it is not known
            (CrossGuard does not report it).
        replace_on_changes: Input paths whose change replaces the resource.
        ignore_changes: Input paths whose changes are ignored.
        delete_before_replace: ``delete_before_replace`` option.
        additional_secret_outputs: Outputs marked secret.
        depends_on: URNs it depends on (explicit and through its inputs), sorted.
    """

    urn: str
    type: str
    name: str
    parent: str | None = None
    custom: bool = True
    inputs: Mapping[str, Any] = field(default_factory=dict[str, Any])
    protect: bool = False
    retain_on_delete: bool | None = False
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    @property
    def provider_package(self) -> str:
        """The first part of the type token: ``aws``, ``gcp``, ``azure-native``, ``mlops``..."""
        return self.type.split(":", 1)[0]

    def options(self) -> dict[str, Any]:
        """Resource options as plain data (what a plan file stores under ``options``)."""
        return {
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "replace_on_changes": list(self.replace_on_changes),
            "ignore_changes": list(self.ignore_changes),
            "delete_before_replace": self.delete_before_replace,
            "additional_secret_outputs": list(self.additional_secret_outputs),
        }

    def to_dict(self) -> dict[str, Any]:
        """Returns the resource as JSON-ready data."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": dict(self.inputs),
            "options": self.options(),
            "depends_on": list(self.depends_on),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedResource:
        """Reads a resource written by :meth:`to_dict`."""
        options: Mapping[str, Any] = data.get("options") or {}
        retain: object = options.get("retain_on_delete", False)
        return cls(
            urn=str(data["urn"]),
            type=str(data["type"]),
            name=str(data["name"]),
            parent=data.get("parent"),
            custom=bool(data.get("custom", True)),
            inputs=dict(data.get("inputs") or {}),
            protect=bool(options.get("protect", False)),
            retain_on_delete=None if retain is None else bool(retain),
            replace_on_changes=tuple(options.get("replace_on_changes") or ()),
            ignore_changes=tuple(options.get("ignore_changes") or ()),
            delete_before_replace=bool(options.get("delete_before_replace", False)),
            additional_secret_outputs=tuple(options.get("additional_secret_outputs") or ()),
            depends_on=tuple(data.get("depends_on") or ()),
        )


@dataclass(frozen=True)
class Plan:
    """Everything one stack's program would create, offline and masked.

    Attributes:
        project: Pulumi project name.
        stack: Stack name (``dev``, ``prod``...).
        facts: Settings the components registered (environment, tier, limits, compute...).
        resources: Every registered resource, sorted by URN.
        ml: Pipelines, jobs, endpoints and clusters in ML terms (versions, manifests, gates).
        outputs: Stack outputs, secrets masked (unknown values read ``None`` offline).
        secret_config: Secret config keys the spec uses → a fingerprint of their
            encrypted value (never the value), so a re-set secret shows in a diff.
    """

    project: str
    stack: str
    facts: StackFacts
    resources: tuple[PlannedResource, ...]
    ml: Mapping[str, Any] = field(default_factory=dict[str, Any])
    outputs: Mapping[str, Any] = field(default_factory=dict[str, Any])
    secret_config: Mapping[str, str] = field(default_factory=dict[str, str])

    @classmethod
    def empty(cls, project: str, stack: str, facts: StackFacts) -> Plan:
        """Returns the plan of a stack that does not exist yet (everything is a create)."""
        return cls(project=project, stack=stack, facts=facts, resources=())

    def by_urn(self) -> dict[str, PlannedResource]:
        """Returns the resources keyed by URN."""
        return {resource.urn: resource for resource in self.resources}

    def of_type(self, type_token: str) -> list[PlannedResource]:
        """Returns the resources of one type token."""
        return [resource for resource in self.resources if resource.type == type_token]


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Returns ``plan`` as JSON-ready data (the plan file's content)."""
    return {
        "format": PLAN_FORMAT,
        "project": plan.project,
        "stack": plan.stack,
        "facts": plan.facts.to_dict(),
        "resources": [resource.to_dict() for resource in plan.resources],
        "ml": dict(plan.ml),
        "outputs": dict(plan.outputs),
        "secret_config": dict(plan.secret_config),
    }


def plan_from_dict(data: Mapping[str, Any], source: str = "plan") -> Plan:
    """Reads a plan written by :func:`plan_to_dict`.

    Raises:
        PlanFormatError: the data is not a plan of a known format.
    """
    if data.get("format") != PLAN_FORMAT:
        msg = f"{source}: not a plan of format {PLAN_FORMAT} (format: {data.get('format')!r})"
        raise PlanFormatError(msg)
    try:
        resources = tuple(
            PlannedResource.from_dict(item)
            for item in typing.cast(list[Mapping[str, Any]], data["resources"])
        )
        return Plan(
            project=str(data["project"]),
            stack=str(data["stack"]),
            facts=StackFacts.from_dict(typing.cast(Mapping[str, Any], data["facts"])),
            resources=tuple(sorted(resources, key=lambda r: r.urn)),
            ml=dict(data.get("ml") or {}),
            outputs=dict(data.get("outputs") or {}),
            secret_config=dict(data.get("secret_config") or {}),
        )
    except (KeyError, TypeError, ValueError) as error:
        msg = f"{source}: malformed plan ({type(error).__name__}: {error})"
        raise PlanFormatError(msg) from None


def dump_plan(plan: Plan) -> str:
    """Returns the plan file text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(plan_to_dict(plan), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_plan(path: Path) -> Plan:
    """Reads a plan file.

    Raises:
        PlanFormatError: the file cannot be read or is not a plan.
    """
    try:
        data: object = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        msg = f"{path}: cannot read: {error.strerror}"
        raise PlanFormatError(msg) from None
    except json.JSONDecodeError as error:
        msg = f"{path}: not JSON: {error}"
        raise PlanFormatError(msg) from None
    if not isinstance(data, dict):
        msg = f"{path}: a plan file holds a JSON object"
        raise PlanFormatError(msg)
    return plan_from_dict(typing.cast(dict[str, Any], data), str(path))
