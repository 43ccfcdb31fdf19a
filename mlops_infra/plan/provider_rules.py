"""What providers do that a plan cannot see: which changes replace, which resources hold data.

An offline plan has no provider to ask, so the few facts a reviewer must not miss are
declared by each cloud, in its own package, as one :class:`ProviderRules` that its
descriptor (:attr:`~mlops_infra.registry.CloudInfo.plan_rules`) points at:

* ``replaced_on``: input paths whose change makes the provider replace the resource
  (Terraform's ``ForceNew``; Pulumi's ``replaceReasons``), by type token;
* ``immutable_types``: types where every input but tags replaces;
* ``stateful_types``: types that hold data, whose replacement or deletion loses it;
* ``tagged_types``: types that take tags but may be declared without them.

This module knows no cloud: it merges the rules of every registered cloud with the few
of its own components. Resources that set ``replace_on_changes`` need no entry: that
option is read from the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mlops_infra.errors import RegistryError
from mlops_infra.plan.paths import matches
from mlops_infra.registry import FlavorRegistry, default_registry

__all__ = [
    "CORE_RULES",
    "ProviderRules",
    "is_stateful_type",
    "is_tagged_type",
    "provider_rules",
    "replace_reasons",
]

_TAG_INPUTS = ("tags", "tagsAll", "labels")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderRules:
    """A cloud's replacement and stateful-type rules, by resource type token.

    Attributes:
        replaced_on: Input paths (patterns) whose change replaces a resource, by type.
        immutable_types: Types where any input change except tags replaces the resource.
        stateful_types: Types that hold data: replacing or deleting one loses what it holds.
        tagged_types: Types that take tags but may be declared without them (so the tag
            policy catches a missing ``tags`` input).
    """

    replaced_on: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    immutable_types: frozenset[str] = frozenset()
    stateful_types: frozenset[str] = frozenset()
    tagged_types: frozenset[str] = frozenset()

    def merged(self, other: ProviderRules) -> ProviderRules:
        """Returns these rules and ``other``'s together (``other`` wins on a shared type)."""
        return ProviderRules(
            replaced_on=MappingProxyType({**self.replaced_on, **other.replaced_on}),
            immutable_types=self.immutable_types | other.immutable_types,
            stateful_types=self.stateful_types | other.stateful_types,
            tagged_types=self.tagged_types | other.tagged_types,
        )


CORE_RULES = ProviderRules(
    # Our components that own data (whatever cloud they are built on).
    stateful_types=frozenset({"mlops:index:ArtifactStore", "mlops:index:TrackingServer"}),
)
"""The rules of mlops-infra's own component types."""


def provider_rules(registry: FlavorRegistry | None = None) -> ProviderRules:
    """Returns :data:`CORE_RULES` merged with the rules of every cloud in ``registry``.

    Args:
        registry: Where the clouds are registered (the process-wide one by default).

    Raises:
        RegistryError: a cloud's ``plan_rules`` is not a :class:`ProviderRules`.
    """
    registry = registry or default_registry()
    rules = CORE_RULES
    for cloud in registry.descriptors():
        if cloud.plan_rules is None:
            continue
        what = f"cloud {cloud.name!r}: plan_rules"
        found = registry.resolve(cloud.plan_rules, what)
        if not isinstance(found, ProviderRules):
            msg = f"{what} {cloud.plan_rules!r} is a {type(found).__name__}, not ProviderRules"
            raise RegistryError(msg)
        rules = rules.merged(found)
    return rules


def is_stateful_type(type_token: str, registry: FlavorRegistry | None = None) -> bool:
    """Whether resources of ``type_token`` hold data."""
    return type_token in provider_rules(registry).stateful_types


def is_tagged_type(type_token: str, registry: FlavorRegistry | None = None) -> bool:
    """Whether resources of ``type_token`` take tags (and must carry the required ones)."""
    return type_token in provider_rules(registry).tagged_types


def replace_reasons(
    type_token: str,
    changed: Iterable[str],
    replace_on_changes: Iterable[str] = (),
    registry: FlavorRegistry | None = None,
) -> list[str]:
    """Returns the changed paths that replace a resource of ``type_token``.

    Args:
        type_token: The resource's type.
        changed: Its changed input paths.
        replace_on_changes: Its ``replace_on_changes`` resource option.
        registry: Where the clouds are registered (the process-wide one by default).
    """
    rules = provider_rules(registry)
    option = list(replace_on_changes)
    table = rules.replaced_on.get(type_token, frozenset())
    immutable = type_token in rules.immutable_types
    return [
        path
        for path in changed
        if matches(path, option)
        or matches(path, table)
        or (immutable and not matches(path, _TAG_INPUTS))
    ]
