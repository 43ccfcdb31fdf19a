"""``mlops-infra check``: run the policies on planned stacks; non-zero exit on a violation.

The policies are imported when a command uses them, not when the command line is parsed:
``mlops-infra plan`` (one process per stack in CI) needs none of them.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_infra.cli.plan_cmd import add_project_options, plan_named_stack, stack_names
from mlops_infra.errors import RegistryError
from mlops_infra.plan.build import stack_file_path
from mlops_infra.plan.model import Plan, load_plan
from mlops_infra.registry import default_registry
from mlops_infra.specs.loading import load_stack_file

if TYPE_CHECKING:
    from mlops_infra.policies import PolicyReport, Rule, Suppression

__all__ = ["load_project_suppressions", "quota_notes", "register", "rule_line"]


class _PackNames:
    """The pack names ``--pack`` accepts, read from the installed clouds when argparse asks."""

    def __contains__(self, name: object) -> bool:
        from mlops_infra.policies import PACKS  # noqa: PLC0415 - see the module docstring

        return name in PACKS

    def __iter__(self) -> Iterator[str]:
        from mlops_infra.policies import PACKS  # noqa: PLC0415

        return iter(list(PACKS))


def rule_line(rule: Rule) -> str:
    """Returns a rule as ``check --list`` prints it: id, title, mapped scanner ids."""
    scanners = ", ".join(rule.scanners) if rule.scanners else "-"
    return f"{rule.id:<24} {rule.title} [{scanners}]"


def load_project_suppressions(project_dir: Path, path: str | None) -> tuple[Suppression, ...]:
    """Reads the suppressions (``--suppressions``, else ``stacks/policy-suppressions.yaml``)."""
    from mlops_infra.policies import (  # noqa: PLC0415
        SUPPRESSIONS_FILE,
        all_rules,
        load_suppressions,
    )

    file = Path(path) if path else stack_file_path(project_dir, "x").parent / SUPPRESSIONS_FILE
    return load_suppressions(file, known_rules=[r.id for r in all_rules()])


def _plans(args: argparse.Namespace, project_dir: Path) -> list[Plan]:
    files: list[str] = args.plan or []
    plans = [load_plan(Path(p)) for p in files]
    names: list[str] = args.stack or ([] if plans else stack_names(project_dir))
    plans += [plan_named_stack(name, project_dir) for name in names]
    return plans


def quota_notes(stack: str, project_dir: Path) -> list[str]:
    """Returns the quotas stack ``stack`` needs, by its cloud's ``quotas`` hook (may be none)."""
    registry = default_registry()
    spec = load_stack_file(stack_file_path(project_dir, stack), registry=registry)
    hook = registry.cloud(spec.cloud).quotas
    if hook is None:
        return []
    lines = registry.resolve(hook, f"cloud {spec.cloud!r}: quotas")
    if not callable(lines):
        msg = f"cloud {spec.cloud!r}: quotas {hook} is not callable"
        raise RegistryError(msg)
    found: object = lines(spec)
    if not isinstance(found, list):
        msg = f"cloud {spec.cloud!r}: quotas {hook} returned {type(found).__name__}, not a list"
        raise RegistryError(msg)
    return [f"{stack}: {line}" for line in typing.cast(list[object], found)]


def _print_report(report: PolicyReport) -> None:
    for finding in report.violations:
        print(
            f"{report.stack}: {finding.rule.id} {finding.resource.name}: {finding.outcome.message}"
        )
    for finding in report.suppressed:
        reason = finding.suppression.reason if finding.suppression else ""
        print(
            f"{report.stack}: {finding.rule.id} {finding.resource.name}: suppressed ({reason})",
            file=sys.stderr,
        )
    for suppression in report.unused:
        print(
            f"{report.stack}: warning: suppression of {suppression.rule} on "
            f"{suppression.resource} matches nothing; remove it",
            file=sys.stderr,
        )
    tallies = [t for t in report.tallies() if t.applied]
    passed = sum(1 for t in tallies if t.failed == 0)
    print(
        f"{report.stack}: {len(tallies)} rules applied, {passed} passed, "
        f"{len(report.violations)} violations, {len(report.suppressed)} suppressed",
        file=sys.stderr,
    )


def _json(report: PolicyReport) -> dict[str, Any]:
    return {
        "stack": report.stack,
        "rules": [
            {
                "rule": t.rule.id,
                "applied": t.applied,
                "passed": t.passed,
                "failed": t.failed,
                "suppressed": t.suppressed,
            }
            for t in report.tallies()
            if t.applied
        ],
        "violations": [f.line().to_dict() for f in report.violations],
        "suppressed": [f.line().to_dict() for f in report.suppressed],
    }


def _run(args: argparse.Namespace) -> int:
    from mlops_infra.policies import rules_of, run_policies  # noqa: PLC0415

    rules = rules_of(args.pack or None)
    if args.list:
        for rule in rules:
            print(rule_line(rule))
        return 0
    project_dir = Path(args.project_dir)
    suppressions = load_project_suppressions(project_dir, args.suppressions)
    plans = _plans(args, project_dir)
    if not plans:
        print("no stacks found (looked for stacks/Pulumi.*.yaml)", file=sys.stderr)
        return 2
    reports = [run_policies(plan, rules, suppressions) for plan in plans]
    if args.format == "json":
        print(json.dumps([_json(r) for r in reports], indent=2, sort_keys=True))
    else:
        for report in reports:
            _print_report(report)
        # What the stack needs granted before its first up (plan files carry no spec).
        for name in args.stack or ([] if args.plan else stack_names(project_dir)):
            for line in quota_notes(name, project_dir):
                print(line, file=sys.stderr)
    return 1 if any(r.violations for r in reports) else 0


def register(commands: Any) -> None:
    """Adds the ``check`` command to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "check",
        help="run the policies on stacks (default: every stack); exit 1 on a violation",
    )
    parser.add_argument("--stack", action="append", help="stack to plan and check (repeatable)")
    parser.add_argument("--plan", action="append", help="plan file to check (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the rules and exit")
    pack = parser.add_argument("--pack", action="append", help="only this pack (repeatable)")
    # Set after add_argument, which formats (so iterates) the choices it is given.
    pack.choices = _PackNames()
    parser.add_argument(
        "--suppressions", help="suppressions file; default: stacks/policy-suppressions.yaml"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_project_options(parser)
    parser.set_defaults(run=_run)
