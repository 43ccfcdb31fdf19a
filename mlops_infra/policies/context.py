"""What a rule sees besides its resource: the stack's facts and every other resource."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mlops_infra.plan.facts import StackFacts
from mlops_infra.plan.model import Plan, PlannedResource

__all__ = ["PolicyContext"]


@dataclass(frozen=True)
class PolicyContext:
    """The stack a resource belongs to.

    Attributes:
        stack: Stack name.
        facts: Settings the components registered (environment, tier, limits, compute...).
        resources: Every resource of the stack (empty where a rule runs on one resource
            alone, as CrossGuard resource policies do).
    """

    stack: str = ""
    facts: StackFacts = field(default_factory=StackFacts)
    resources: tuple[PlannedResource, ...] = ()

    @classmethod
    def from_plan(cls, plan: Plan) -> PolicyContext:
        """Returns the context of every resource of ``plan``."""
        return cls(stack=plan.stack, facts=plan.facts, resources=plan.resources)

    def of_type(self, *type_tokens: str) -> list[PlannedResource]:
        """Returns the resources of the given types."""
        return [r for r in self.resources if r.type in type_tokens]

    def related(
        self,
        resource: PlannedResource,
        type_tokens: Iterable[str],
        via: str,
        physical_key: str | None = None,
    ) -> list[PlannedResource]:
        """Returns the resources of ``type_tokens`` attached to ``resource``.

        A resource is attached when it depends on ``resource`` (through its inputs or
        ``depends_on``) or when its ``via`` input names it: its logical name, its mock id
        (``<name>-id``) or its physical name (its own ``physical_key`` input, by default
        also ``via``: a bucket's ``bucket``).
        """
        names = {resource.name, f"{resource.name}-id", resource.urn}
        physical = resource.inputs.get(physical_key or via)
        if isinstance(physical, str) and physical:
            names.add(physical)
        wanted = set(type_tokens)
        return [
            other
            for other in self.resources
            if other.type in wanted
            and other.urn != resource.urn
            and (resource.urn in other.depends_on or _names_one_of(other.inputs.get(via), names))
        ]


def _names_one_of(value: object, names: set[str]) -> bool:
    return isinstance(value, str) and value in names
