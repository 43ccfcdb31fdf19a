"""Which source files a component uses: its module, its packages, and what it imports.

A pipeline's version must change when code it runs changes, and only then. We read
each component module's imports (statically, with :mod:`ast`) and follow those that
resolve inside the source folder, so editing an unrelated file keeps the version.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from mlops_infra.python_source import parse_python
from mlops_infra.versioning.hashing import HashingError, file_identity

__all__ = ["component_files", "module_file"]

#: Files beside a top-level component package that define its dependencies.
_REQUIREMENT_FILES = ("requirements.txt", "pyproject.toml")


def module_file(source_dir: Path, module: str) -> Path | None:
    """Returns the file of dotted ``module`` under ``source_dir``, or ``None``."""
    base = source_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_inits(source_dir: Path, module: str) -> list[Path]:
    parts = module.split(".")
    inits: list[Path] = []
    for depth in range(1, len(parts)):
        init = source_dir.joinpath(*parts[:depth], "__init__.py")
        if init.is_file():
            inits.append(init)
    return inits


def _module_name(source_dir: Path, path: Path) -> str:
    relative = path.relative_to(source_dir).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# (path, module) -> (file identity, its imports): each file is parsed once per process
# while it stays unchanged (every synthesis versions every pipeline).
_IMPORTS: dict[tuple[str, str], tuple[tuple[int, int, int, int, int], frozenset[str]]] = {}


def _imported_modules(path: Path, module: str) -> frozenset[str]:
    identity = file_identity(path.stat())
    known = _IMPORTS.get((str(path), module))
    if known is not None and known[0] == identity:
        return known[1]
    found = frozenset(_parse_imports(path, module))
    _IMPORTS[str(path), module] = (identity, found)
    return found


def _parse_imports(path: Path, module: str) -> set[str]:
    try:
        tree = parse_python(path.read_bytes(), str(path))
    except SyntaxError as error:
        msg = f"{path}:{error.lineno}: cannot parse component code ({error.msg})"
        raise HashingError(msg) from None
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            if base:
                found.add(base)
            # ``from pkg import name`` may import the submodule pkg.name.
            found.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return found


def component_files(source_dir: Path, components: Iterable[str]) -> list[Path]:
    """Returns every file under ``source_dir`` that running ``components`` may load, sorted.

    That is each component's module, the ``__init__.py`` of its packages, every module
    under ``source_dir`` they import (transitively), and the requirement files of the
    top-level packages involved.

    Raises:
        HashingError: a component has no module file, or a used file does not parse.
    """
    pending: list[str] = []
    for component in components:
        if module_file(source_dir, component) is None:
            dotted = component.replace(".", "/")
            msg = (
                f"component {component!r} not found: no {source_dir / dotted}.py "
                f"or {source_dir / dotted}/__init__.py"
            )
            raise HashingError(msg)
        pending.append(component)
    seen: set[str] = set()
    files: set[Path] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = module_file(source_dir, module)
        if path is None:
            continue  # a third-party or standard-library module
        files.add(path)
        for init in _package_inits(source_dir, module):
            files.add(init)
            pending.append(_module_name(source_dir, init))
        pending.extend(_imported_modules(path, module) - seen)
    for top in {_module_name(source_dir, f).split(".")[0] for f in files}:
        for name in _REQUIREMENT_FILES:
            requirement = source_dir / top / name
            if requirement.is_file():
                files.add(requirement)
    return sorted(files)
