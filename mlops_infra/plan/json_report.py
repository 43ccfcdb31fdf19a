"""Render a diff as JSON, for machines (the CI comment job, dashboards)."""

from __future__ import annotations

import json
from typing import Any

from mlops_infra.plan.diff import Op, PlanDiff, ResourceChange
from mlops_infra.plan.report import PolicyDigest

__all__ = ["DIFF_FORMAT", "diff_to_dict", "render_json"]

DIFF_FORMAT = 1
"""Version of the JSON diff format."""


def _change(change: ResourceChange) -> dict[str, Any]:
    return {
        "op": change.op.value,
        "urn": change.urn,
        "type": change.type,
        "name": change.name,
        "custom": change.custom,
        "changed": list(change.changed),
        "replace_reasons": list(change.replace_reasons),
        "stateful": change.stateful,
        "protected": change.protected,
        "data_at_risk": change.loud,
    }


def diff_to_dict(diff: PlanDiff, policies: PolicyDigest | None = None) -> dict[str, Any]:
    """Returns the diff (and the head's policy results) as JSON-ready data."""
    return {
        "format": DIFF_FORMAT,
        "stack": diff.stack,
        "counts": {op.value: diff.count(op) for op in (Op.CREATE, Op.UPDATE, Op.REPLACE, Op.DELETE)}
        | {"same": diff.unchanged},
        "data_at_risk": [change.urn for change in diff.loud],
        "changes": [_change(change) for change in diff.changes],
        "ml": [
            {
                "kind": change.kind,
                "name": change.name,
                "summary": change.summary,
                "details": list(change.details),
                "text": change.text(),
            }
            for change in diff.ml
        ],
        "policies": policies.to_dict() if policies else None,
    }


def render_json(diff: PlanDiff, policies: PolicyDigest | None = None) -> str:
    """Returns the diff as JSON text (sorted keys, trailing newline)."""
    data = diff_to_dict(diff, policies)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
