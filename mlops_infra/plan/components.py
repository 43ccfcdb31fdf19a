"""The ``mlops:index:*`` components of a program as they registered themselves.

Every component registers what it was built from as its inputs
(:func:`~mlops_infra.resources._component.component_inputs`): ``target`` (the environment,
tier defaults resolved), ``spec`` (its effective spec) and, for pipelines and jobs,
``version_manifest`` (the version it computed). Plan facts, the ML summary and the
policies read these, so a component composed by hand is judged by what it built, and
nothing derives a default again.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from mlops_infra.resources import TYPE_PREFIX

if TYPE_CHECKING:
    # plan.model imports plan.facts, which reads components through this module.
    from mlops_infra.plan.model import PlannedResource

__all__ = ["RegisteredComponent", "registered_components"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def _mapping(value: object) -> Mapping[str, Any]:
    return typing.cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class RegisteredComponent:
    """One component and the inputs it registered.

    Attributes:
        kind: Its type without the ``mlops:index:`` prefix (``TrackingServer``).
        name: Its resource name (``mlops-tracking``).
        target: The environment it was built for (:meth:`~mlops_infra.resources.Target.inputs`).
        spec: Its effective spec as JSON data (values that are ``None`` are left out).
        manifest: Version, config hash, code and data hashes (pipelines and jobs).
    """

    kind: str
    name: str
    target: Mapping[str, Any]
    spec: Mapping[str, Any] = field(default_factory=dict[str, Any])
    manifest: Mapping[str, Any] = field(default_factory=dict[str, Any])

    def spec_as(self, model: type[ModelT]) -> ModelT:
        """Returns the registered spec as ``model``.

        Values equal to the field's default are left to the model, because some checks
        depend on which fields were given (``gpu_count`` without ``gpu``). Only for specs
        whose nullable fields all default to ``None``: a registration leaves ``None``
        values out.
        """
        given: dict[str, Any] = {}
        for key, value in self.spec.items():
            info = model.model_fields.get(key)
            if info is not None and not info.is_required():
                default = info.get_default(call_default_factory=True)
                if to_jsonable_python(default) == value:
                    continue
            given[key] = value
        return model.model_validate(given)


def registered_components(resources: Iterable[PlannedResource]) -> tuple[RegisteredComponent, ...]:
    """Returns the components among ``resources`` that registered a target, by name.

    Sorted, because registrations arrive in whatever order the program's outputs resolve.
    """
    found: list[RegisteredComponent] = []
    for resource in resources:
        target = _mapping(resource.inputs.get("target"))
        if not resource.type.startswith(TYPE_PREFIX) or not target:
            continue
        found.append(
            RegisteredComponent(
                kind=resource.type[len(TYPE_PREFIX) :],
                name=resource.name,
                target=target,
                spec=_mapping(resource.inputs.get("spec")),
                manifest=_mapping(resource.inputs.get("version_manifest")),
            )
        )
    return tuple(sorted(found, key=lambda c: (c.name, c.kind)))
