"""Offline plans: what a stack's program would create, diffed and rendered for review.

Example::

    from mlops_infra.plan import diff_plans, load_plan, plan_stack_file, render_markdown

    head = plan_stack_file(Path("stacks/Pulumi.dev.yaml"))
    base = load_plan(Path("base/dev.plan.json"))
    print(render_markdown(diff_plans(base, head)))
"""

from mlops_infra.plan.build import (
    plan_program,
    plan_stack,
    plan_stack_file,
    read_stack_source,
    stack_file_path,
)
from mlops_infra.plan.diff import Op, PlanDiff, ResourceChange, diff_plans
from mlops_infra.plan.facts import StackFacts
from mlops_infra.plan.json_report import diff_to_dict, render_json
from mlops_infra.plan.markdown import COMMENT_MARKER, render_markdown
from mlops_infra.plan.mermaid import render_mermaid
from mlops_infra.plan.ml_diff import MlChange
from mlops_infra.plan.model import (
    PLAN_FORMAT,
    Plan,
    PlanFormatError,
    PlannedResource,
    dump_plan,
    load_plan,
)
from mlops_infra.plan.report import PolicyDigest, PolicyLine

__all__ = [
    "COMMENT_MARKER",
    "PLAN_FORMAT",
    "MlChange",
    "Op",
    "Plan",
    "PlanDiff",
    "PlanFormatError",
    "PlannedResource",
    "PolicyDigest",
    "PolicyLine",
    "ResourceChange",
    "StackFacts",
    "diff_plans",
    "diff_to_dict",
    "dump_plan",
    "load_plan",
    "plan_program",
    "plan_stack",
    "plan_stack_file",
    "read_stack_source",
    "render_json",
    "render_markdown",
    "render_mermaid",
    "stack_file_path",
]
