"""The ``mlops-infra`` command: thin, over the library."""

import signal
import sys

from mlops_infra.cli.main import main
from mlops_infra.offline.collection import freeze_at_exit

__all__ = ["main", "run"]


def run() -> None:
    """Console-script entry point: runs :func:`main` and exits with its code."""
    # Behave like other command-line tools when output is piped into `head` and closed early.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    freeze_at_exit()
    sys.exit(main())
