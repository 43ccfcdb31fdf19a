"""What every component shares: flavor resolution, child naming and child options."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pulumi
from pydantic import BaseModel

from mlops_infra.errors import BackendError, SpecIssue, SpecValidationError
from mlops_infra.registry import Flavor
from mlops_infra.resources.target import Target
from mlops_infra.specs._flavored import FlavoredSpec, validate_options
from mlops_infra.versioning import VersionManifest

__all__ = [
    "TYPE_PREFIX",
    "Backend",
    "BuildContext",
    "component_inputs",
    "decode_component_inputs",
    "exclusive",
    "resolve_backend",
    "start_build",
]

TYPE_PREFIX = "mlops:index:"
"""Type tokens are permanent: ``mlops:index:<Type>`` (module ``index`` keeps
multi-language packaging possible)."""

ArgsT = TypeVar("ArgsT")
OptionsT = TypeVar("OptionsT", bound=BaseModel)
BackendT = TypeVar("BackendT", bound="Backend")


@dataclass(frozen=True)
class BuildContext(Generic[ArgsT]):
    """What a backend gets to build one component: its parent, name, args and flavor.

    Attributes:
        component: The component resource; every child is parented to it.
        name: The component's name; child names derive from it.
        args: The component's args.
        target: Cloud, environment and stack-wide settings.
        flavor: The flavor being built.
        options: The flavor's validated options (``None`` when it takes none).
        prerequisites: Resources every child waits for (the foundation's
            :attr:`~mlops_infra.resources.FoundationRef.prerequisites`).
    """

    component: pulumi.ComponentResource
    name: str
    args: ArgsT
    target: Target
    flavor: Flavor
    options: BaseModel | None
    prerequisites: tuple[pulumi.Resource, ...] = ()

    @property
    def stack_name(self) -> str:
        """The Pulumi stack name."""
        return self.target.stack_name or pulumi.get_stack()

    def child_name(self, role: str | None = None) -> str:
        """``name`` for the main child, ``name-role`` for the others (names are contract)."""
        return self.name if role is None else f"{self.name}-{role}"

    def tags(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Tags for a child resource."""
        tags = {"mlops-stack": self.stack_name, "mlops-component": self.name}
        tags.update(self.target.resource_tags(extra))
        return tags

    def opts(
        self,
        *,
        stateful: bool = False,
        depends_on: Sequence[pulumi.Resource] | None = None,
        replace_on_changes: Sequence[str] | None = None,
        ignore_changes: Sequence[str] | None = None,
        additional_secret_outputs: Sequence[str] | None = None,
        delete_before_replace: bool | None = None,
        custom_timeouts: pulumi.CustomTimeouts | None = None,
        retain_on_delete: bool = False,
    ) -> pulumi.ResourceOptions:
        """Options of a child resource, parented to the component.

        A stateful child is protected and retained on delete when the target protects
        stateful resources (``retain_on_delete`` retains it always); every child waits for
        the context's prerequisites.
        """
        protect = stateful and self.target.protects_stateful
        waits = [*self.prerequisites, *(depends_on or ())]
        return pulumi.ResourceOptions(
            parent=self.component,
            protect=protect or None,
            retain_on_delete=protect or retain_on_delete or None,
            depends_on=waits or None,
            replace_on_changes=list(replace_on_changes) if replace_on_changes else None,
            ignore_changes=list(ignore_changes) if ignore_changes else None,
            additional_secret_outputs=(
                list(additional_secret_outputs) if additional_secret_outputs else None
            ),
            delete_before_replace=delete_before_replace,
            custom_timeouts=custom_timeouts,
        )

    def options_as(self, model: type[OptionsT]) -> OptionsT:
        """Returns the flavor options as ``model`` (its defaults when the flavor declares none).

        Raises:
            BackendError: the flavor declares a different options model (a registration bug
                that would otherwise drop the user's options silently).
        """
        if isinstance(self.options, model):
            return self.options
        if self.options is None:
            return model()
        msg = (
            f"flavor {self.flavor.label} validated its options as "
            f"{type(self.options).__name__}, but its backend reads {model.__name__}"
        )
        raise BackendError(msg)


class Backend:
    """Base of every backend class; each kind's base class derives from it."""


def resolve_backend(
    target: Target,
    kind: str,
    flavor_name: str | None,
    options: Mapping[str, Any],
    where: str,
) -> tuple[Flavor, Backend, BaseModel | None]:
    """Finds the flavor for ``kind`` on the target's cloud, loads it and validates its options.

    Raises:
        SpecValidationError: the options are invalid (each issue names ``where.options.<key>``).
        RegistryError: no such cloud or flavor, or its implementation cannot be loaded.
    """
    registry = target.backends
    flavor = registry.flavor(target.cloud, kind, flavor_name)
    implementation = registry.load(flavor)
    validated, issues = validate_options(flavor, options)
    if issues:
        raise SpecValidationError(
            [SpecIssue(".".join([where, *(str(p) for p in loc)]), msg) for loc, msg in issues]
        )
    backend = implementation()
    if not isinstance(backend, Backend):
        msg = f"{flavor.label}: {flavor.implementation} is not a Backend"
        raise BackendError(msg)
    return flavor, backend, validated


def start_build(
    component: pulumi.ComponentResource,
    kind: str,
    base: type[BackendT],
    name: str,
    args: ArgsT,
    *,
    spec: FlavoredSpec | None = None,
) -> tuple[BuildContext[ArgsT], BackendT]:
    """Resolves the ``kind`` backend (a ``base`` subclass) for ``spec``'s flavor and options.

    ``args`` must have a ``target`` attribute (every component's args do).
    """
    target: Target = getattr(args, "target")  # noqa: B009 - every args dataclass has one
    flavor, backend, validated = resolve_backend(
        target, kind, spec.flavor if spec else None, spec.options if spec else {}, where=name
    )
    if not isinstance(backend, base):
        msg = f"{flavor.label}: {flavor.implementation} is not a {base.__name__}"
        raise BackendError(msg)
    foundation = getattr(args, "foundation", None)
    context = BuildContext(
        component=component,
        name=name,
        args=args,
        target=target,
        flavor=flavor,
        options=validated,
        prerequisites=tuple(getattr(foundation, "prerequisites", ())),
    )
    return context, backend


REGISTERED_INPUTS = ("target", "spec", "version_manifest")
"""The inputs a component registers, each as JSON text (:func:`component_inputs`)."""


def component_inputs(
    target: Target, spec: BaseModel | None = None, manifest: VersionManifest | None = None
) -> dict[str, Any]:
    """The inputs a component registers: its target, its effective spec and its version.

    ``spec`` must be the spec the component builds from, tier defaults applied
    (:mod:`mlops_infra.specs.effective`): plan facts, the ML diff and policies read these
    inputs and derive nothing again. No secret value can be among them: specs name secrets
    by config key only (``admin_password_config_key``), and the values travel in args,
    which are never registered. ``manifest`` (pipelines, jobs) is the version the component
    computed, so nothing hashes its code again.

    Each is registered as JSON text, read back with :func:`decode_component_inputs`: no
    provider reads a component's inputs, and the SDK serializes (and resolves back) a
    nested input one value at a time, which cost the ``dev`` stack 12 ms a synthesis
    (8 % of the same resources written directly against the provider SDK) for 5 KB of data.

    The SDK also sets each input key on the component as an output attribute: ``target``,
    ``spec`` and ``version_manifest`` are no component's own attributes.
    """
    inputs: dict[str, Any] = {"target": _json(target.inputs())}
    if spec is not None:
        inputs["spec"] = _json(spec.model_dump(mode="json"))
    if manifest is not None:
        inputs["version_manifest"] = _json(
            {
                "version": manifest.version,
                "config_hash": manifest.config_hash,
                "code": dict(manifest.code),
                "data": {name: dict(ref) for name, ref in manifest.data.items()},
            }
        )
    return inputs


def decode_component_inputs(type_token: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` as data: a component's :func:`component_inputs` decoded, others' as given.

    Text that is not JSON (an unknown value in a preview, a masked secret) stays as it is.
    """
    decoded = dict(inputs)
    if not type_token.startswith(TYPE_PREFIX):
        return decoded
    for key in REGISTERED_INPUTS:
        value = decoded.get(key)
        if isinstance(value, str):
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                continue
    return decoded


def _json(value: object) -> str:
    return json.dumps(_without_nulls(value), separators=(",", ":"), ensure_ascii=False)


def _without_nulls(value: object) -> object:
    """``value`` without the ``None`` entries of its mappings, as Pulumi registers a mapping.

    Readers take an absent key for the field's default, as they did when the SDK
    serialized these inputs itself.
    """
    if isinstance(value, Mapping):
        entries = typing.cast(Mapping[str, object], value)
        return {k: _without_nulls(v) for k, v in entries.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_nulls(v) for v in typing.cast(Sequence[object], value)]
    return value


def exclusive(what: str, spec: object | None, existing: object | None) -> None:
    """Rejects args that both create (``spec=``) and adopt (``existing=``)."""
    if spec is not None and existing is not None:
        msg = f"{what}: give spec= to create or existing= to adopt, not both"
        raise SpecValidationError([SpecIssue(what, msg)])
