"""``mlops-infra rehearse --stack S``: run what ``pulumi up`` would deploy for S, here."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from mlops_infra.rehearse import RehearsalError, rehearse  # noqa: PLC0415 - heavy imports

    # The emulators and the MLflow recording proxy serve from threads of this process. With
    # SIGPIPE at its default (the CLI's choice for piped output), a step killed by Ctrl-C
    # while one of them answers it killed the whole process (exit -13) before it could stop
    # what it started; ignored, the server thread gets EPIPE and the interrupt is handled.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        report = rehearse(
            args.stack, project_dir=Path(args.project_dir), out=sys.stdout, keep=args.keep
        )
    except RehearsalError as error:
        print(f"rehearse {args.stack}: FAILED at step {error.step!r}", file=sys.stderr)
        print(f"  contract: {error.contract}", file=sys.stderr)
        print(f"  {error.detail}".replace("\n", "\n  "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"rehearse {args.stack}: interrupted; everything it started is stopped", file=sys.stderr
        )
        return 130
    if not report.predictions:
        print(f"rehearse {args.stack}: no endpoint answered a prediction", file=sys.stderr)
        return 1
    return 0


def register(commands: Any) -> None:
    """Adds the ``rehearse`` command to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "rehearse",
        help="run a stack's generated pipeline, gate and serving contracts here, on emulators",
    )
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<NAME>.yaml)")
    parser.add_argument(
        "--project-dir", default=".", help="project folder (with Pulumi.yaml); default: ."
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the run folder (logs, container paths)"
    )
    parser.set_defaults(run=_run)
