"""Container images rebuilt as virtualenvs: same requirement files, nothing else.

Where a step or a serving container would run in an image, rehearse runs it in a
virtualenv built from the requirement lines that image is built from, without the
system's site packages, so a dependency missing from the image is missing here too.
Virtualenvs are cached by the hash of their sorted requirement lines and the Python
version (``.mlops/rehearse/venvs/<hash>``), so one serves every cloud whose image
requirements are the same. ``uv`` builds them when it is installed (seconds from its
cache); ``venv`` and ``pip`` otherwise.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from mlops_infra.rehearse.errors import RehearsalError

__all__ = ["VenvCache"]

_READY = ".rehearse-ready"
#: Part of every cache key: bumped when the way a virtualenv is built changes, so older
#: ones (built without compiled bytecode, before 2) are rebuilt rather than reused.
_LAYOUT = "layout 2"


class VenvCache:
    """Virtualenvs keyed by their requirements, under ``root``.

    Args:
        root: Folder holding one virtualenv per requirements hash.
    """

    def __init__(self, root: Path) -> None:
        """Creates the cache (nothing is built until :meth:`python` is called)."""
        self.root = root

    @staticmethod
    def key(requirements: Iterable[str], without: Iterable[str] = ()) -> str:
        """The cache key of a requirement set (order and duplicates do not matter)."""
        lines = sorted({r.strip() for r in requirements if r.strip()})
        removed = sorted(f"without {name}" for name in without)
        version = f"python {sys.version_info.major}.{sys.version_info.minor}"
        text = "\n".join([version, _LAYOUT, *lines, *removed])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def python(
        self, requirements: Sequence[str], *, image: str, without: Sequence[str] = ()
    ) -> Path:
        """The interpreter of the virtualenv of ``requirements`` (built on first use).

        ``without``: distributions removed after the install, even when another requirement
        pulls them in (fault injection: an image missing a dependency).

        Raises:
            RehearsalError: the requirements cannot be installed (named after ``image``).
        """
        folder = self.root / self.key(requirements, without)
        python = folder / "bin" / "python"
        if (folder / _READY).exists():
            return python
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{folder.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (folder / _READY).exists():
                return python
            shutil.rmtree(folder, ignore_errors=True)
            self._build(folder, list(requirements), image, list(without))
            (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", "utf-8")
            (folder / _READY).touch()
        return python

    @staticmethod
    def _build(folder: Path, requirements: list[str], image: str, without: list[str]) -> None:
        uv = shutil.which("uv") or _beside_interpreter("uv")
        python = str(folder / "bin" / "python")
        if uv:
            # uv leaves bytecode uncompiled (pip compiles it): an image's interpreter starts
            # from compiled modules, and without them (or where the caller sets
            # PYTHONDONTWRITEBYTECODE) every step process recompiles MLflow, ~7 s each.
            commands = [
                [uv, "venv", "--quiet", "--python", sys.executable, str(folder)],
                [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
                 *requirements],
            ]  # fmt: skip
            if without:
                commands.append([uv, "pip", "uninstall", "--quiet", "--python", python, *without])
        else:
            commands = [
                [sys.executable, "-m", "venv", str(folder)],
                [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 *requirements],
            ]  # fmt: skip
            if without:
                commands.append([python, "-m", "pip", "uninstall", "--yes", "--quiet", *without])
        for command in commands:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                shutil.rmtree(folder, ignore_errors=True)
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
                raise RehearsalError(
                    image, "image environment", f"installing {requirements} failed:\n{tail}"
                )


def _beside_interpreter(tool: str) -> str | None:
    candidate = Path(sys.executable).parent / tool
    return str(candidate) if candidate.exists() else None
