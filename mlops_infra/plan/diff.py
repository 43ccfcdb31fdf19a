"""Diff two plans: which resources are created, updated, replaced or deleted, and why.

A URN in both plans whose inputs differ is an update, unless a changed path forces
replacement (its ``replace_on_changes`` option, or :mod:`~mlops_infra.plan.provider_rules`).
A URN in one plan only is a create or a delete; a renamed resource is both. Replacing or
deleting a resource that holds data is flagged (``ResourceChange.loud``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mlops_infra.plan.ml_diff import MlChange, ml_changes
from mlops_infra.plan.model import Plan, PlannedResource
from mlops_infra.plan.paths import changed_paths, matches
from mlops_infra.plan.provider_rules import is_stateful_type, replace_reasons

__all__ = ["Op", "PlanDiff", "ResourceChange", "diff_plans", "tree_order"]

_OPTION_FIELDS = ("protect", "retain_on_delete", "delete_before_replace")


class Op(StrEnum):
    """What happens to a resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"


@dataclass(frozen=True)
class ResourceChange:
    """One resource's change between two plans.

    Attributes:
        op: Create, update, replace or delete.
        urn: URN (the head's; the base's for deletes).
        type: Type token.
        name: Logical name.
        parent: Parent URN.
        custom: ``False`` for component resources.
        changed: Changed input paths (resource options as ``options.<name>``).
        replace_reasons: The changed paths that force replacement.
        stateful: The resource holds data (by type, or protected/retained by the program).
        protected: The base resource is protected: Pulumi refuses to replace or delete it
            until ``protect`` is lifted.
    """

    op: Op
    urn: str
    type: str
    name: str
    parent: str | None = None
    custom: bool = True
    changed: tuple[str, ...] = ()
    replace_reasons: tuple[str, ...] = ()
    stateful: bool = False
    protected: bool = False

    @property
    def loud(self) -> bool:
        """Whether this loses data: a stateful resource replaced or deleted."""
        return self.stateful and self.op in (Op.REPLACE, Op.DELETE)


@dataclass(frozen=True)
class PlanDiff:
    """Everything that changes between a base plan and a head plan.

    Attributes:
        stack: Stack name.
        base: The base plan.
        head: The head plan.
        changes: Resources created, updated, replaced or deleted, in tree order.
        unchanged: Number of resources that stay the same.
        ml: Changes in ML terms (pipelines, models, endpoints, gates, compute).
    """

    stack: str
    base: Plan
    head: Plan
    changes: tuple[ResourceChange, ...] = ()
    unchanged: int = 0
    ml: tuple[MlChange, ...] = field(default_factory=tuple[MlChange, ...])

    def count(self, op: Op) -> int:
        """Number of resources with ``op``."""
        return sum(1 for change in self.changes if change.op == op)

    @property
    def loud(self) -> list[ResourceChange]:
        """Stateful resources replaced or deleted."""
        return [change for change in self.changes if change.loud]

    @property
    def empty(self) -> bool:
        """Whether nothing changes (resources or ML objects)."""
        return not self.changes and not self.ml


def _stateful(resource: PlannedResource) -> bool:
    return is_stateful_type(resource.type) or resource.protect or bool(resource.retain_on_delete)


def _compare(old: PlannedResource, new: PlannedResource) -> ResourceChange:
    changed = [
        path
        for path in changed_paths(dict(old.inputs), dict(new.inputs))
        if not matches(path, new.ignore_changes)
    ]
    reasons = replace_reasons(new.type, changed, new.replace_on_changes)
    changed += [
        f"options.{name}" for name in _OPTION_FIELDS if getattr(old, name) != getattr(new, name)
    ]
    op = (Op.REPLACE if reasons else Op.UPDATE) if changed else Op.SAME
    return ResourceChange(
        op=op,
        urn=new.urn,
        type=new.type,
        name=new.name,
        parent=new.parent,
        custom=new.custom,
        changed=tuple(changed),
        replace_reasons=tuple(reasons),
        stateful=_stateful(old) or _stateful(new),
        protected=old.protect,
    )


def _single(resource: PlannedResource, op: Op) -> ResourceChange:
    return ResourceChange(
        op=op,
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        parent=resource.parent,
        custom=resource.custom,
        stateful=_stateful(resource),
        protected=resource.protect if op == Op.DELETE else False,
    )


def tree_order(resources: list[PlannedResource]) -> list[PlannedResource]:
    """Orders resources parents first, siblings by name (how a reviewer reads a stack)."""
    children: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in resources}
    for resource in resources:
        parent = resource.parent if resource.parent in urns else None
        children.setdefault(parent, []).append(resource)
    ordered: list[PlannedResource] = []

    def visit(parent: str | None) -> None:
        for child in sorted(children.get(parent, []), key=lambda r: (r.name, r.type, r.urn)):
            ordered.append(child)
            visit(child.urn)

    visit(None)
    return ordered


def diff_plans(base: Plan, head: Plan) -> PlanDiff:
    """Returns what changes from ``base`` to ``head`` (two plans of the same stack)."""
    old = base.by_urn()
    new = head.by_urn()
    changes: dict[str, ResourceChange] = {}
    unchanged = 0
    for urn, resource in new.items():
        if urn in old:
            change = _compare(old[urn], resource)
            if change.op == Op.SAME:
                unchanged += 1
                continue
            changes[urn] = change
        else:
            changes[urn] = _single(resource, Op.CREATE)
    for urn, resource in old.items():
        if urn not in new:
            changes[urn] = _single(resource, Op.DELETE)
    everything = list(head.resources) + [r for r in base.resources if r.urn not in new]
    ordered = [changes[r.urn] for r in tree_order(everything) if r.urn in changes]
    return PlanDiff(
        stack=head.stack,
        base=base,
        head=head,
        changes=tuple(ordered),
        unchanged=unchanged,
        ml=tuple(ml_changes(base, head)),
    )
