"""``mlops-infra plan``: plan a stack offline and write its JSON resource graph."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlops_infra.plan.build import plan_stack_file, stack_file_path
from mlops_infra.plan.model import Plan, dump_plan

__all__ = ["add_project_options", "plan_named_stack", "register", "stack_names", "write_text"]


def stack_names(project_dir: Path) -> list[str]:
    """Returns the names of the project's stacks (``Pulumi.<name>.yaml`` files), sorted."""
    folder = stack_file_path(project_dir, "x").parent
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))


def plan_named_stack(stack: str, project_dir: Path, stack_file: Path | None = None) -> Plan:
    """Plans stack ``stack`` of the project (from its stack file, or ``stack_file``).

    Raises:
        MlopsError: the stack file is invalid or the program failed.
    """
    path = stack_file or stack_file_path(project_dir, stack)
    return plan_stack_file(path, project_dir=project_dir, stack=stack)


def write_text(text: str, out: str | None) -> None:
    """Writes ``text`` to the file ``out`` (standard output for ``None`` or ``-``)."""
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _run(args: argparse.Namespace) -> int:
    project_dir = Path(args.project_dir)
    plan = plan_named_stack(
        args.stack, project_dir, Path(args.stack_file) if args.stack_file else None
    )
    write_text(dump_plan(plan), args.out)
    custom = sum(1 for r in plan.resources if r.custom)
    where = args.out if args.out and args.out != "-" else "standard output"
    print(
        f"planned stack {plan.stack}: {len(plan.resources)} resources ({custom} custom) -> {where}",
        file=sys.stderr,
    )
    return 0


def add_project_options(parser: argparse.ArgumentParser) -> None:
    """Adds ``--project-dir`` (the folder of ``Pulumi.yaml``)."""
    parser.add_argument(
        "--project-dir", default=".", help="project folder (with Pulumi.yaml); default: ."
    )


def register(commands: Any) -> None:
    """Adds the ``plan`` command to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "plan",
        help="plan a stack offline (mocks, no credentials) and write its resource graph as JSON",
    )
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<NAME>.yaml)")
    parser.add_argument("--out", help="write the plan here; default: standard output")
    parser.add_argument("--stack-file", help="read this stack file instead of the stack's own")
    add_project_options(parser)
    parser.set_defaults(run=_run)
