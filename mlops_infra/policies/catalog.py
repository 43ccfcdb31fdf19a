"""Every rule, by pack, with its id checked unique.

The ``mlops`` pack is cloud-agnostic and lives here; every other pack belongs to a cloud
and is found through the cloud's descriptor (:attr:`~mlops_infra.registry.CloudInfo.policies`),
imported on first use. A cloud added by a plugin brings its packs the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from mlops_infra.errors import RegistryError
from mlops_infra.policies import mlops
from mlops_infra.policies.model import Rule
from mlops_infra.registry import FlavorRegistry, default_registry

__all__ = ["CORE_PACK", "PACKS", "all_rules", "rule", "rules_by_pack", "rules_of"]

CORE_PACK = "mlops"
"""The cloud-agnostic pack."""


def rules_by_pack(registry: FlavorRegistry | None = None) -> dict[str, tuple[Rule, ...]]:
    """Returns the rules by pack: ``mlops`` first, then each cloud's packs, by cloud name.

    Args:
        registry: Where the clouds are registered (the process-wide one by default).

    Raises:
        RegistryError: a cloud's policy path does not name a tuple of rules.
        ValueError: two rules share an id, or a pack is declared by two clouds.
    """
    registry = registry or default_registry()
    found: dict[str, tuple[Rule, ...]] = {CORE_PACK: mlops.RULES}
    owner: dict[str, str] = {CORE_PACK: "mlops-infra"}
    for cloud in registry.descriptors():
        for path in cloud.policies:
            what = f"cloud {cloud.name!r}: policies"
            loaded = registry.resolve(path, what)
            if not isinstance(loaded, tuple) or not all(
                isinstance(item, Rule)
                for item in loaded  # pyright: ignore[reportUnknownVariableType]
            ):
                msg = f"{what} {path!r} is not a tuple of Rule"
                raise RegistryError(msg)
            rules: tuple[Rule, ...] = loaded  # pyright: ignore[reportUnknownVariableType]
            for item in rules:
                if item.pack in owner and owner[item.pack] != cloud.name:
                    msg = (
                        f"pack {item.pack!r} of rule {item.id} is declared by "
                        f"{owner[item.pack]!r} and by cloud {cloud.name!r}"
                    )
                    raise ValueError(msg)
                owner[item.pack] = cloud.name
                found[item.pack] = (*found.get(item.pack, ()), item)
    _check_unique(found)
    return found


def _check_unique(found: Mapping[str, tuple[Rule, ...]]) -> None:
    seen: dict[str, str] = {}
    for pack, pack_rules in found.items():
        for item in pack_rules:
            if item.pack != pack:
                msg = f"rule {item.id} says pack {item.pack!r} but is listed in {pack!r}"
                raise ValueError(msg)
            if item.id in seen:
                msg = f"rule id {item.id} is used twice (packs {seen[item.id]} and {pack})"
                raise ValueError(msg)
            seen[item.id] = pack


class _Packs(Mapping[str, tuple[Rule, ...]]):
    """The process-wide registry's packs, read when first used (not at import)."""

    def _packs(self) -> dict[str, tuple[Rule, ...]]:
        return rules_by_pack()

    def __getitem__(self, key: str) -> tuple[Rule, ...]:
        return self._packs()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._packs())

    def __len__(self) -> int:
        return len(self._packs())


PACKS: Mapping[str, tuple[Rule, ...]] = _Packs()
"""Rules by pack name, of the installed clouds (read on use)."""


def all_rules(registry: FlavorRegistry | None = None) -> tuple[Rule, ...]:
    """Returns every rule, ordered by pack (``mlops`` first, then by cloud) then id.

    Raises:
        ValueError: two rules share an id, or a rule sits in a pack it does not name.
    """
    found = rules_by_pack(registry)
    order = list(found)
    return tuple(
        sorted(
            (item for pack_rules in found.values() for item in pack_rules),
            key=lambda r: (order.index(r.pack), r.id),
        )
    )


def rule(rule_id: str, registry: FlavorRegistry | None = None) -> Rule:
    """Returns the rule with ``rule_id``; raises ``KeyError`` naming the known ids otherwise."""
    for item in all_rules(registry):
        if item.id == rule_id:
            return item
    raise KeyError(rule_id)


def rules_of(
    packs: Iterable[str] | None = None, registry: FlavorRegistry | None = None
) -> tuple[Rule, ...]:
    """Returns the rules of ``packs`` (every pack when ``None``).

    Raises:
        KeyError: a pack name is unknown.
    """
    if packs is None:
        return all_rules(registry)
    known = rules_by_pack(registry)
    wanted = list(packs)
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise KeyError(f"unknown pack(s) {', '.join(unknown)}; packs: {', '.join(known)}")
    return tuple(r for r in all_rules(registry) if r.pack in wanted)
