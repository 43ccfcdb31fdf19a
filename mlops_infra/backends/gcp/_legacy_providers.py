"""Providers of resources earlier versions created, kept so their stacks still refresh and delete.

Dynamic providers are pickled by reference into a stack's state (module and class name):
a stack created before the Cloud Run deployment and the version-keyed pipeline run still
names these classes for its ``<endpoint>-revisions`` plan and its Workflows execution. The
new program no longer declares them, so Pulumi reads them on ``refresh`` and deletes them
on the next ``up``: both must work, and neither may touch the cloud.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import DiffResult, ReadResult, ResourceProvider

__all__ = ["LegacyBookkeepingProvider"]


class LegacyBookkeepingProvider(ResourceProvider):
    """Reads back what the state holds and deletes nothing in the cloud.

    A revision plan was bookkeeping only; a Workflows execution is history (cancelling it
    could stop the run whose model is being served), so forgetting both is what is right.
    """

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Never changes: the current program declares neither resource."""
        del olds, news
        return DiffResult(changes=False, replaces=[])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Returns the state as it is."""
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Forgets the resource; nothing exists in the cloud to remove."""
        del props
