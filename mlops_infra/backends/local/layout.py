"""Where a local stack keeps its state: ``<project>/.mlops/<stack>/``.

Every path is derived from the project root, the stack and a resource name, never
from a random value: a ``pulumi up`` interrupted half-way finds the process or data it
started at the same place on the next run, and adopts or stops it instead of
leaving an orphan.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["StackLayout", "log_progress", "path_of_file_uri"]


@dataclass(frozen=True)
class StackLayout:
    """Paths of one local stack's state.

    Attributes:
        root: ``<project>/.mlops/<stack>``.
    """

    root: Path

    @classmethod
    def of(cls, project_dir: Path, stack: str) -> StackLayout:
        """Returns the layout of ``stack`` in ``project_dir``."""
        return cls((project_dir / ".mlops" / stack).resolve())

    @property
    def progress_log(self) -> Path:
        """Progress lines of long operations (``make up`` shows them while Pulumi works)."""
        return self.root / "progress.log"

    def service(self, kind: str, name: str) -> Path:
        """Folder of a managed process: pid file, log, runtime files."""
        return self.root / kind / name

    @property
    def default_store(self) -> Path:
        """Default artifact store folder."""
        return self.root / "artifacts"


def log_progress(progress_log: Path, source: str, message: str) -> None:
    """Appends a progress line (and prints it to stderr, which Pulumi keeps in its logs)."""
    line = f"{time.strftime('%H:%M:%S')} [{source}] {message}"
    print(line, file=sys.stderr, flush=True)
    try:
        progress_log.parent.mkdir(parents=True, exist_ok=True)
        with progress_log.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        pass  # progress is a courtesy; never fail an operation over it


def path_of_file_uri(uri: str) -> Path:
    """Returns the local path of a ``file://`` URI."""
    return Path(unquote(urlparse(uri).path))
