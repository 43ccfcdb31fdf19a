"""``mlops-infra diff``: what changes between two plans, as Markdown (PR comment) and JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlops_infra.cli.check_cmd import load_project_suppressions
from mlops_infra.cli.plan_cmd import add_project_options, plan_named_stack, write_text
from mlops_infra.plan.diff import PlanDiff, diff_plans
from mlops_infra.plan.git import plan_git_ref
from mlops_infra.plan.json_report import render_json
from mlops_infra.plan.markdown import render_markdown
from mlops_infra.plan.model import Plan, load_plan
from mlops_infra.plan.report import PolicyDigest

__all__ = ["register"]


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _plans(args: argparse.Namespace, project_dir: Path) -> tuple[Plan, Plan] | str:
    files: list[str] = args.plans
    if args.base:
        if not args.stack:
            return "--base needs --stack (the stack to plan at both commits)"
        if len(files) > 1:
            return "with --base, give at most one plan file (the head plan)"
        head = load_plan(Path(files[0])) if files else plan_named_stack(args.stack, project_dir)
        base = plan_git_ref(args.base, args.stack, project_dir=project_dir)
        if base is None:
            print(f"stack {args.stack} does not exist at {args.base}: all new", file=sys.stderr)
            base = Plan.empty(head.project, head.stack, head.facts)
        return base, head
    if len(files) != 2:
        return "give two plan files (BASE HEAD), or --base GIT_REF --stack NAME"
    return load_plan(Path(files[0])), load_plan(Path(files[1]))


def _policies(args: argparse.Namespace, project_dir: Path, diff: PlanDiff) -> PolicyDigest | None:
    if args.no_policies:
        return None
    from mlops_infra.policies import run_policies  # noqa: PLC0415 - see check_cmd

    suppressions = load_project_suppressions(project_dir, args.suppressions)
    head = run_policies(diff.head, suppressions=suppressions)
    base = run_policies(diff.base, suppressions=suppressions) if diff.base.resources else None
    return head.digest(base)


def _run(args: argparse.Namespace) -> int:
    project_dir = Path(args.project_dir)
    plans = _plans(args, project_dir)
    if isinstance(plans, str):
        return _usage(plans)
    base, head = plans
    if base.stack != head.stack:
        print(f"warning: comparing stack {base.stack} with stack {head.stack}", file=sys.stderr)
    diff = diff_plans(base, head)
    policies = _policies(args, project_dir, diff)
    if args.json:
        write_text(render_json(diff, policies), args.json)
    if args.markdown or not args.json:
        write_text(render_markdown(diff, policies, marker=not args.no_marker), args.markdown)
    loud = len(diff.loud)
    print(
        f"stack {diff.stack}: {len(diff.changes)} resource changes, {len(diff.ml)} ML changes"
        + (f", {loud} STATEFUL REPLACEMENTS/DELETIONS" if loud else ""),
        file=sys.stderr,
    )
    return 0


def register(commands: Any) -> None:
    """Adds the ``diff`` command to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "diff",
        help="compare two plans (files, or --base GIT_REF) and render Markdown and JSON",
    )
    parser.add_argument("plans", nargs="*", metavar="PLAN", help="BASE and HEAD plan files")
    parser.add_argument("--base", help="plan the base at this git revision (temporary worktree)")
    parser.add_argument("--stack", help="stack to plan (with --base)")
    parser.add_argument("--markdown", help="write Markdown here (default: standard output)")
    parser.add_argument("--json", help="write the JSON diff here")
    parser.add_argument(
        "--suppressions", help="suppressions file; default: stacks/policy-suppressions.yaml"
    )
    parser.add_argument("--no-policies", action="store_true", help="do not run the policies")
    parser.add_argument(
        "--no-marker", action="store_true", help="omit the comment marker (for merged comments)"
    )
    add_project_options(parser)
    parser.set_defaults(run=_run)
