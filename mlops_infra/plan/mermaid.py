"""A Mermaid diagram of a diff: what changed and its direct neighbours, coloured by operation.

A production stack holds around 80 resources; drawing all of them buries the two that
change. The diagram shows each changed resource with its parent and its children (the
resource tree around it), so a reviewer sees where a change sits and what it carries.
"""

from __future__ import annotations

from mlops_infra.plan.diff import Op, PlanDiff, tree_order
from mlops_infra.plan.model import PlannedResource

__all__ = ["MAX_NODES", "render_mermaid", "short_type"]

MAX_NODES = 120
"""Above this many nodes, the neighbours are left out and only changed resources are drawn."""

_STYLES = {
    Op.CREATE: "fill:#dafbe1,stroke:#1a7f37",
    Op.UPDATE: "fill:#fff8c5,stroke:#9a6700",
    Op.REPLACE: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px",
    Op.DELETE: "fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 2",
}


def short_type(type_token: str) -> str:
    """Returns a type token as a short label: ``pkg:mod/thing:Thing`` → ``pkg mod.Thing``."""
    package, _, rest = type_token.partition(":")
    module, _, name = rest.rpartition(":")
    if package in ("mlops", "fake") or package.startswith("pulumi-python"):
        return name or type_token
    return f"{package} {module.split('/')[0]}.{name}" if module else type_token


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def _around_changes(resources: list[PlannedResource], ops: dict[str, Op]) -> set[str]:
    """The URNs of changed resources, their parents and their children."""
    shown = set(ops)
    for resource in resources:
        if resource.urn in ops and resource.parent is not None:
            shown.add(resource.parent)
        if resource.parent in ops:
            shown.add(resource.urn)
    return shown


def render_mermaid(diff: PlanDiff) -> str:
    """Returns a ``flowchart`` of the changed resources and their direct neighbours.

    Deleted resources are drawn from the base stack; unchanged resources appear only as
    the parent or a child of a changed one. Without changes, one note says so.
    """
    ops = {change.urn: change.op for change in diff.changes}
    if not ops:
        return 'flowchart LR\n  none["no resource changes"]\n'
    deleted = [r for r in diff.base.resources if ops.get(r.urn) == Op.DELETE]
    everything: list[PlannedResource] = tree_order(list(diff.head.resources) + deleted)
    shown = _around_changes(everything, ops)
    if len(shown) > MAX_NODES:
        shown = set(ops)
    resources = [r for r in everything if r.urn in shown]
    ids = {resource.urn: f"r{index}" for index, resource in enumerate(resources)}
    lines = ["flowchart LR"]
    for resource in resources:
        lines.append(
            f'  {ids[resource.urn]}["{_label(resource.name)}<br/>'
            f'<small>{_label(short_type(resource.type))}</small>"]'
        )
    for resource in resources:
        if resource.parent in ids:
            lines.append(f"  {ids[resource.parent]} --> {ids[resource.urn]}")
    for op, style in _STYLES.items():
        members = [ids[r.urn] for r in resources if ops.get(r.urn) == op]
        if members:
            lines.append(f"  classDef {op.value} {style}")
            lines.append(f"  class {','.join(members)} {op.value}")
    return "\n".join(lines) + "\n"
