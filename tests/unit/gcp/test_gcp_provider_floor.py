"""Issue 14.5: the oldest pulumi-gcp ``pyproject.toml`` admits has everything the backend uses.

``pulumi-gcp>=8.0`` admitted releases without ``sql.DatabaseInstanceSettingsFinalBackupConfigArgs``
(the purge fix of 14.3 needs it). The backend's source is read (``ast``) for every
``pulumi_gcp`` name it uses and every keyword it passes; each must exist in the installed
pulumi-gcp. ``make floor`` installs exactly the floor and runs these and the other GCP tests
against it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

REPO = Path(__file__).resolve().parents[3]
BACKEND = REPO / "mlops_infra" / "backends" / "gcp"

FLOOR = (9, 0)
"""The oldest pulumi-gcp the backend runs on: found by listing each release's wheel with
the check below (8.x lacks ``final_backup_config`` on Cloud SQL instances)."""


@dataclass(frozen=True)
class Use:
    """One ``<module>.<Name>`` of pulumi_gcp the backend uses, with the keywords it passes."""

    where: str
    module: str
    name: str
    keywords: tuple[str, ...]


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Local name → ``pulumi_gcp.<module>`` for every ``from pulumi_gcp import …``."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "pulumi_gcp":
            for alias in node.names:
                found[alias.asname or alias.name] = f"pulumi_gcp.{alias.name}"
    return found


def uses(directory: Path = BACKEND) -> Iterator[Use]:
    """Every pulumi_gcp attribute the backend's modules name, and the keywords of calls."""
    for path in sorted(directory.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        modules = _imported_modules(tree)
        called: dict[int, tuple[str, ...]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                keywords = tuple(k.arg for k in node.keywords if k.arg is not None)
                called[id(node.func)] = keywords
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                yield Use(
                    where=f"{path.relative_to(REPO)}:{node.lineno}",
                    module=modules[node.value.id],
                    name=node.attr,
                    keywords=called.get(id(node), ()),
                )


def _parameters(target: Callable[..., Any]) -> set[str]:
    return set(inspect.signature(target).parameters)


def missing(use: Use) -> str | None:
    """What of ``use`` the installed pulumi_gcp lacks, or ``None``."""
    module = importlib.import_module(use.module)
    target = getattr(module, use.name, None)
    if target is None:
        return f"{use.where}: {use.module}.{use.name} does not exist"
    if not use.keywords:
        return None
    if isinstance(target, type) and issubclass(target, pulumi.CustomResource):
        # Resources take **kwargs; _internal_init names every argument.
        accepted = _parameters(target._internal_init)  # pyright: ignore[reportAttributeAccessIssue,reportUnknownMemberType,reportUnknownArgumentType]
    elif isinstance(target, type):
        accepted = _parameters(target.__init__)
    elif callable(target):
        accepted = _parameters(target)
    else:
        return None
    unknown = sorted(set(use.keywords) - accepted - {"opts"})
    if unknown:
        return f"{use.where}: {use.module}.{use.name} takes no {', '.join(unknown)}"
    return None


def test_the_floor_is_the_one_pyproject_admits() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["gcp"]
    (requirement,) = [r for r in extras if r.startswith("pulumi-gcp")]
    found = re.fullmatch(r"pulumi-gcp>=(\d+)\.(\d+),<(\d+)", requirement)
    assert found is not None, requirement
    assert (int(found[1]), int(found[2])) == FLOOR


@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
def test_the_scan_sees_what_the_backend_uses() -> None:
    """The scan is not vacuous: it finds the names and keywords the floor hinges on."""
    found: dict[tuple[str, str], set[str]] = {}
    for use in uses():
        found.setdefault((use.module, use.name), set()).update(use.keywords)
    assert (
        "retention_days"
        in found[("pulumi_gcp.sql", "DatabaseInstanceSettingsFinalBackupConfigArgs")]
    )
    assert "invoker_iam_disabled" in found[("pulumi_gcp.cloudrunv2", "Service")]
    assert len(found) > 80


@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
def test_the_installed_pulumi_gcp_has_every_name_and_argument_the_backend_uses() -> None:
    problems = sorted({problem for use in uses() if (problem := missing(use))})
    assert not problems, "\n".join(problems)


def test_the_installed_pulumi_gcp_is_admitted() -> None:
    from importlib.metadata import version

    major, minor = (int(part) for part in version("pulumi-gcp").split(".")[:2])
    if (major, minor) < FLOOR:
        pytest.fail(f"pulumi-gcp {major}.{minor} is below the floor {FLOOR}")
