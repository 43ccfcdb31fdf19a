"""A Mermaid diagram of a stack: the resource tree, coloured by what the diff does to each."""

from __future__ import annotations

from mlops_infra.plan.diff import Op, PlanDiff, tree_order
from mlops_infra.plan.model import PlannedResource

__all__ = ["MAX_NODES", "render_mermaid", "short_type"]

MAX_NODES = 120
"""Above this many resources, only components and changed resources are drawn."""

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


def render_mermaid(diff: PlanDiff) -> str:
    """Returns a ``flowchart`` of the head stack plus deleted resources, styled by operation."""
    ops = {change.urn: change.op for change in diff.changes}
    deleted = [r for r in diff.base.resources if ops.get(r.urn) == Op.DELETE]
    resources: list[PlannedResource] = tree_order(list(diff.head.resources) + deleted)
    if len(resources) > MAX_NODES:
        resources = [r for r in resources if not r.custom or r.urn in ops]
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
