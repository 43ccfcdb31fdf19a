"""Local foundation: nothing is shared between local processes, so nothing is created."""

from __future__ import annotations

from mlops_infra.resources import BuildContext, FoundationArgs, FoundationBackend, FoundationRef

__all__ = ["LocalFoundation"]


class LocalFoundation(FoundationBackend):
    """Creates nothing: local processes share the machine's network and file system."""

    def create(self, ctx: BuildContext[FoundationArgs]) -> FoundationRef:
        """Returns an empty reference."""
        del ctx
        return FoundationRef()
