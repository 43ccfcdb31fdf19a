"""The diff's diagram shows what changed and its direct neighbours, not the whole stack."""

from __future__ import annotations

import re

from mlops_infra.plan import Plan, PlannedResource, StackFacts, diff_plans, render_mermaid

STACK = "urn:pulumi:dev::mlops::"


def _r(
    name: str, parent: str | None = None, *, custom: bool = True, **inputs: object
) -> PlannedResource:
    return PlannedResource(
        urn=f"{STACK}t:index:{'Thing' if custom else 'Group'}::{name}",
        type=f"t:index:{'Thing' if custom else 'Group'}",
        name=name,
        parent=f"{STACK}t:index:Group::{parent}" if parent else None,
        custom=custom,
        inputs=dict(inputs),
    )


def _plan(*resources: PlannedResource) -> Plan:
    return Plan(project="mlops", stack="dev", facts=StackFacts(), resources=resources)


def _nodes(diagram: str) -> list[str]:
    return re.findall(r'^  r\d+\["([^<]+)<br/>', diagram, flags=re.MULTILINE)


# A root group of 30 groups of 3 things each: 121 resources.
BASE = [
    _r("root", custom=False),
    *(_r(f"g{i}", "root", custom=False) for i in range(30)),
    *(_r(f"g{i}-t{j}", f"g{i}", v=1) for i in range(30) for j in range(3)),
]


def test_only_changes_and_their_parents_and_children_are_drawn() -> None:
    head = [r for r in BASE if r.name != "g4-t2"]  # deleted
    head = [_r("g7-t1", "g7", v=2) if r.name == "g7-t1" else r for r in head]  # updated
    head.append(_r("g9-t3", "g9", v=1))  # created
    head = [_r("g12", "root", custom=False, x=1) if r.name == "g12" else r for r in head]
    diagram = render_mermaid(diff_plans(_plan(*BASE), _plan(*head)))
    assert sorted(_nodes(diagram)) == sorted(
        [
            "g4-t2", "g4",  # a deletion and its parent
            "g7-t1", "g7",  # an update and its parent
            "g9-t3", "g9",  # a creation and its parent
            "g12", "root", "g12-t0", "g12-t1", "g12-t2",  # a changed group, parent, children
        ]
    )  # fmt: skip
    ids = dict(re.findall(r'^  (r\d+)\["([^<]+)<br/>', diagram, flags=re.MULTILINE))
    by_name = {name: node for node, name in ids.items()}
    assert f"  {by_name['g7']} --> {by_name['g7-t1']}" in diagram
    assert f"  {by_name['root']} --> {by_name['g12']}" in diagram
    assert f"class {by_name['g12']},{by_name['g7-t1']} update" in diagram
    assert f"class {by_name['g9-t3']} create" in diagram
    assert f"class {by_name['g4-t2']} delete" in diagram


def test_no_change_draws_a_single_note() -> None:
    diagram = render_mermaid(diff_plans(_plan(*BASE), _plan(*BASE)))
    assert diagram == 'flowchart LR\n  none["no resource changes"]\n'
