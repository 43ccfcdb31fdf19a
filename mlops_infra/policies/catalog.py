"""Every rule, by pack, with its id checked unique."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType

from mlops_infra.policies import aws, azure, gcp, local, mlops
from mlops_infra.policies.model import Rule

__all__ = ["PACKS", "all_rules", "rule", "rules_of"]

PACKS: Mapping[str, tuple[Rule, ...]] = MappingProxyType(
    {
        "mlops": mlops.RULES,
        "aws": aws.RULES,
        "gcp": gcp.RULES,
        "azure": azure.RULES,
        "local": local.RULES,
    }
)
"""Rules by pack name."""


@cache
def all_rules() -> tuple[Rule, ...]:
    """Returns every rule, ordered by pack then id.

    Raises:
        ValueError: two rules share an id, or a rule sits in a pack it does not name.
    """
    seen: dict[str, str] = {}
    rules: list[Rule] = []
    for pack, pack_rules in PACKS.items():
        for item in pack_rules:
            if item.pack != pack:
                msg = f"rule {item.id} says pack {item.pack!r} but is listed in {pack!r}"
                raise ValueError(msg)
            if item.id in seen:
                msg = f"rule id {item.id} is used twice (packs {seen[item.id]} and {pack})"
                raise ValueError(msg)
            seen[item.id] = pack
            rules.append(item)
    return tuple(sorted(rules, key=lambda r: (list(PACKS).index(r.pack), r.id)))


def rule(rule_id: str) -> Rule:
    """Returns the rule with ``rule_id``; raises ``KeyError`` naming the known ids otherwise."""
    for item in all_rules():
        if item.id == rule_id:
            return item
    raise KeyError(rule_id)


def rules_of(packs: Iterable[str] | None = None) -> tuple[Rule, ...]:
    """Returns the rules of ``packs`` (every pack when ``None``).

    Raises:
        KeyError: a pack name is unknown.
    """
    if packs is None:
        return all_rules()
    wanted = list(packs)
    unknown = [p for p in wanted if p not in PACKS]
    if unknown:
        raise KeyError(f"unknown pack(s) {', '.join(unknown)}; packs: {', '.join(PACKS)}")
    return tuple(r for r in all_rules() if r.pack in wanted)
