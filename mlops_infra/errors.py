"""Exceptions raised by mlops-infra.

Every error says what was wrong, where, the value given and what is allowed, so
that a stack author can fix the YAML without reading our source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BackendError",
    "MissingExtraError",
    "MlopsError",
    "RegistryError",
    "SpecIssue",
    "SpecValidationError",
]


class MlopsError(Exception):
    """Base class of every error mlops-infra raises on purpose."""


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem found in a stack specification.

    Attributes:
        path: Where the problem is, e.g. ``mlops:stack.pipelines[churn].steps[train].gpu``.
        message: What is wrong, with the value given and what is allowed.
    """

    path: str
    message: str

    def render(self, source: str | None = None) -> str:
        """Returns the issue as one line, prefixed by ``source`` (a file name) when given."""
        line = f"{self.path}: {self.message}" if self.path else self.message
        return f"{source}: {line}" if source else line


class SpecValidationError(MlopsError):
    """A stack specification is invalid; carries one :class:`SpecIssue` per problem."""

    def __init__(self, issues: Sequence[SpecIssue], source: str | None = None) -> None:
        """Creates the error from the issues found in ``source`` (a file name, optional)."""
        self.issues: tuple[SpecIssue, ...] = tuple(issues)
        self.source = source
        super().__init__("\n".join(issue.render(source) for issue in self.issues))


class RegistryError(MlopsError):
    """A flavor or cloud registration or lookup failed."""


class MissingExtraError(RegistryError):
    """A backend needs an optional dependency that is not installed."""

    def __init__(self, what: str, module: str, extra: str) -> None:
        """Creates the error for ``what`` needing ``module`` from the pip extra ``extra``."""
        self.module = module
        self.extra = extra
        self.install_command = f"pip install 'mlops-infra[{extra}]'"
        super().__init__(
            f"{what} needs the Python package '{module}', which is not installed; "
            f"run: {self.install_command}"
        )


class BackendError(MlopsError):
    """A backend could not build or adopt a resource."""
