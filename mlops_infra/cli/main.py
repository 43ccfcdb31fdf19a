"""``mlops-infra``: validate, plan, diff and check stacks; print their schema; list flavors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mlops_infra.cli import check_cmd, diff_cmd, plan_cmd, rehearse_cmd
from mlops_infra.errors import MlopsError, SpecValidationError
from mlops_infra.registry import default_registry
from mlops_infra.specs.loading import load_stack_file
from mlops_infra.specs.schema import stack_file_schema

__all__ = ["main"]


def _stack_files(paths: Sequence[str]) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted(Path("stacks").glob("Pulumi.*.yaml"))


def _validate(args: argparse.Namespace) -> int:
    files = _stack_files(args.paths)
    if not files:
        print("no stack files found (looked for stacks/Pulumi.*.yaml)", file=sys.stderr)
        return 2
    problems = 0
    for path in files:
        try:
            spec = load_stack_file(path)
        except SpecValidationError as error:
            problems += len(error.issues)
            for issue in error.issues:
                print(issue.render(str(path)))
            continue
        print(
            f"{path}: ok ({spec.cloud}/{spec.environment}: {len(spec.clusters)} clusters, "
            f"{len(spec.jobs)} jobs, {len(spec.pipelines)} pipelines, "
            f"{len(spec.endpoints)} endpoints)",
            file=sys.stderr,
        )
    if problems:
        print(f"{problems} problem(s) in {len(files)} file(s)", file=sys.stderr)
        return 1
    return 0


def _schema(args: argparse.Namespace) -> int:
    del args
    schema = stack_file_schema(default_registry().clouds())
    print(json.dumps(schema, indent=2, sort_keys=True))
    return 0


def _flavors(args: argparse.Namespace) -> int:
    registry = default_registry()
    clouds = [args.cloud] if args.cloud else registry.clouds()
    for cloud_name in clouds:
        cloud = registry.cloud(cloud_name)
        print(f"{cloud.name}: {cloud.description}")
        for flavor in registry.flavors(cloud_name):
            marker = " (default)" if flavor.default else ""
            print(f"  {flavor.kind:<17} {flavor.name}{marker}: {flavor.description}")
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from mlops_infra.cli.invoke import invoke  # noqa: PLC0415 - keeps other commands fast

    return invoke(
        stack=args.stack,
        outputs_file=Path(args.outputs) if args.outputs else None,
        endpoint=args.endpoint,
        input_file=Path(args.input) if args.input else None,
    )


def _lineage(args: argparse.Namespace) -> int:
    from mlops_infra.cli.lineage import lineage  # noqa: PLC0415 - keeps other commands fast

    return lineage(
        endpoint=args.endpoint,
        stack=args.stack,
        outputs_file=Path(args.outputs) if args.outputs else None,
        as_json=args.json,
    )


def build_parser() -> argparse.ArgumentParser:
    """Returns the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="mlops-infra", description="Cloud-agnostic MLOps stacks as Pulumi components."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser(
        "validate", help="validate stack files (default: every stacks/Pulumi.*.yaml)"
    )
    validate.add_argument("paths", nargs="*", help="stack files to validate")
    validate.set_defaults(run=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of a stack file")
    schema.set_defaults(run=_schema)

    flavors = commands.add_parser("flavors", help="list clouds and their flavors")
    flavors.add_argument("--cloud", help="only this cloud")
    flavors.set_defaults(run=_flavors)

    invoke = commands.add_parser(
        "invoke", help="call a deployed endpoint with its model's serving example"
    )
    invoke.add_argument("endpoint", nargs="?", help="endpoint name (default: the first)")
    invoke.add_argument("--stack", help="stack whose outputs to read (default: the selected one)")
    invoke.add_argument("--outputs", help="read the outputs from this JSON file instead")
    invoke.add_argument("--input", help="request body (JSON) instead of the serving example")
    invoke.set_defaults(run=_invoke)

    lineage = commands.add_parser(
        "lineage", help="walk from an endpoint to its model, run, pipeline version, commit and data"
    )
    lineage.add_argument("endpoint", help="endpoint name")
    lineage.add_argument("--stack", help="stack whose outputs to read (default: the selected one)")
    lineage.add_argument("--outputs", help="read the outputs from this JSON file instead")
    lineage.add_argument("--json", action="store_true", help="print JSON instead of a tree")
    lineage.set_defaults(run=_lineage)

    plan_cmd.register(commands)
    diff_cmd.register(commands)
    check_cmd.register(commands)
    rehearse_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except MlopsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return code
