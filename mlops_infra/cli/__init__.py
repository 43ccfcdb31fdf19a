"""The ``mlops-infra`` command: thin, over the library."""

import sys

from mlops_infra.cli.main import main

__all__ = ["main", "run"]


def run() -> None:
    """Console-script entry point: runs :func:`main` and exits with its code."""
    sys.exit(main())
