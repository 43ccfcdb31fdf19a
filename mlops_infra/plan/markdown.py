"""Render a diff as Markdown for a pull-request comment.

Order of sections, most urgent first: data at risk (stateful replacements and deletions),
the ML changes in words, policy results, the resource table, and a Mermaid diagram.
The output is deterministic: the same two plans give the same bytes.
"""

from __future__ import annotations

from mlops_infra.plan.diff import Op, PlanDiff, ResourceChange
from mlops_infra.plan.mermaid import render_mermaid, short_type
from mlops_infra.plan.report import PolicyDigest, PolicyLine

__all__ = ["COMMENT_MARKER", "MAX_PATHS", "render_markdown"]

COMMENT_MARKER = "<!-- mlops-infra-plan -->"
"""First line of every rendered comment, so CI can find and update its own comment."""

MAX_PATHS = 6
"""Changed input paths listed per resource before "and N more"."""

_OP_LABELS = {
    Op.CREATE: "+ create",
    Op.UPDATE: "~ update",
    Op.REPLACE: "± replace",
    Op.DELETE: "- delete",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _paths(change: ResourceChange) -> str:
    shown = [
        f"**`{path}`**" if path in change.replace_reasons else f"`{path}`"
        for path in change.changed[:MAX_PATHS]
    ]
    hidden = len(change.changed) - MAX_PATHS
    if hidden > 0:
        shown.append(f"and {hidden} more")
    return ", ".join(shown)


def _summary(diff: PlanDiff) -> str:
    counts = " · ".join(
        f"{diff.count(op)} to {op.value}" for op in (Op.CREATE, Op.UPDATE, Op.REPLACE, Op.DELETE)
    )
    return f"**{counts}** · {diff.unchanged} unchanged"


def _risk(diff: PlanDiff) -> list[str]:
    loud = diff.loud
    if not loud:
        return []
    one = len(loud) == 1
    lines = [
        "> [!CAUTION]",
        f"> **Data at risk: {len(loud)} stateful {'resource' if one else 'resources'} will be "
        f"replaced or deleted.** What {'it holds' if one else 'they hold'} is lost unless "
        "it is copied first.",
    ]
    for change in loud:
        why = (
            f" because {', '.join(f'`{p}`' for p in change.replace_reasons)} changed"
            if change.replace_reasons
            else ""
        )
        protected = (
            "; it is **protected**, so `pulumi up` refuses until `protect` is lifted"
            if change.protected
            else ""
        )
        lines.append(
            f"> - **{change.op.value.upper()}** `{change.name}` (`{change.type}`){why}{protected}"
        )
    return [*lines, ""]


def _ml(diff: PlanDiff) -> list[str]:
    lines = ["#### ML changes", ""]
    if not diff.ml:
        return [*lines, "No pipeline, model, endpoint, gate or compute changes.", ""]
    return [*lines, *(f"- {change.text()}" for change in diff.ml), ""]


def _resources(diff: PlanDiff) -> list[str]:
    lines = ["#### Resources", ""]
    if not diff.changes:
        return [*lines, "No resource changes.", ""]
    lines += ["| | resource | type | changed inputs |", "|---|---|---|---|"]
    for change in diff.changes:
        marker = " ⚠" if change.loud else ""
        lines.append(
            f"| {_OP_LABELS[change.op]}{marker} | `{_cell(change.name)}` | "
            f"`{_cell(short_type(change.type))}` | {_cell(_paths(change))} |"
        )
    return [*lines, ""]


def _policy_rows(lines: list[PolicyLine], last: str) -> list[str]:
    rows = [f"| rule | resource | {last} |", "|---|---|---|"]
    for line in lines:
        text = line.reason if line.reason is not None else line.message
        new = " (new)" if line.new else ""
        finding = f"{_cell(line.title)}: {_cell(text)}"
        rows.append(f"| `{line.rule}`{new} | `{_cell(line.resource)}` | {finding} |")
    return rows


def _policies(digest: PolicyDigest | None) -> list[str]:
    if digest is None:
        return []
    verdict = "FAILED" if digest.violations else "passed"
    lines = [
        "#### Policies",
        "",
        f"Policies {verdict}: {digest.rules_applied} rules applied, {digest.checks} checks, "
        f"{digest.passed} passed, {len(digest.violations)} violations, "
        f"{len(digest.suppressed)} suppressed.",
        "",
    ]
    if digest.violations:
        lines += [*_policy_rows(list(digest.violations), "violation"), ""]
    if digest.suppressed:
        lines += [
            "<details><summary>Suppressed findings</summary>",
            "",
            *_policy_rows(list(digest.suppressed), "reason"),
            "",
            "</details>",
            "",
        ]
    return lines


def render_markdown(
    diff: PlanDiff, policies: PolicyDigest | None = None, *, marker: bool = True
) -> str:
    """Returns the diff as Markdown.

    Args:
        diff: The diff.
        policies: Policy results of the head plan, if they were run.
        marker: Start with :data:`COMMENT_MARKER` (off when several stacks share a comment).
    """
    facts = diff.head.facts
    lines = [COMMENT_MARKER] if marker else []
    lines += [
        f"### Stack `{diff.stack}` ({facts.cloud}, {facts.environment}: {facts.tier})",
        "",
        _summary(diff),
        "",
    ]
    lines += _risk(diff)
    lines += _ml(diff)
    lines += _policies(policies)
    lines += _resources(diff)
    lines += [
        "<details><summary>Stack diagram</summary>",
        "",
        "```mermaid",
        render_mermaid(diff).rstrip("\n"),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"
