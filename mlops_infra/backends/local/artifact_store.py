"""Local artifact store: a directory with a ``file://`` URI and retention rules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from mlops_infra.backends.local.dynamic import changed_keys, plain
from mlops_infra.backends.local.layout import StackLayout
from mlops_infra.backends.local.options import LocalStoreOptions
from mlops_infra.backends.local.retention import apply_retention, write_marker
from mlops_infra.dynamic_provider import EngineBoundProvider
from mlops_infra.errors import BackendError
from mlops_infra.resources import ArtifactStoreArgs, ArtifactStoreBackend, BuildContext, StoreRef
from mlops_infra.specs import ArtifactStoreSpec, ExistingArtifactStore

__all__ = ["LocalArtifactStore", "StoreDirectory"]

_INPUTS = ("path", "lifecycle", "purge_on_delete")


class _StoreProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        root = Path(props["path"])
        root.mkdir(parents=True, exist_ok=True)
        write_marker(root, props["lifecycle"])
        apply_retention(root, props["lifecycle"])
        return CreateResult(id_=str(root), outs={**plain(props), "uri": root.as_uri()})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, _INPUTS)
        return DiffResult(
            changes=bool(changes),
            replaces=["path"] if "path" in changes else [],
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self.create(news).outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not Path(props.get("path", id_)).is_dir():
            return ReadResult(None, {})  # gone: refresh drops it, the next up recreates it
        return ReadResult(id_, plain(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("purge_on_delete"):
            shutil.rmtree(props["path"], ignore_errors=True)


class StoreDirectory(Resource, module="mlops", name="LocalStoreDirectory"):
    """A local directory used as an artifact store."""

    uri: pulumi.Output[str]
    """``file://`` URI of the directory."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the directory ``props['path']``."""
        super().__init__(_StoreProvider(), name, {**props, "uri": None}, opts)


class LocalArtifactStore(ArtifactStoreBackend):
    """A directory under ``.mlops/<stack>/`` (or ``options.path``); data survives destroy."""

    def create(self, ctx: BuildContext[ArtifactStoreArgs], spec: ArtifactStoreSpec) -> StoreRef:
        """Declares the store directory."""
        options = ctx.options_as(LocalStoreOptions)
        project_dir = ctx.target.project_dir
        path = (
            (project_dir / options.path).resolve()
            if options.path
            else StackLayout.of(project_dir, ctx.stack_name).default_store
        )
        store = StoreDirectory(
            ctx.child_name(),
            {
                "path": str(path),
                "lifecycle": [rule.model_dump() for rule in spec.lifecycle],
                "purge_on_delete": spec.purge_on_delete,
            },
            ctx.opts(stateful=True),
        )
        return StoreRef(uri=store.uri)

    def adopt(
        self, ctx: BuildContext[ArtifactStoreArgs], existing: ExistingArtifactStore
    ) -> StoreRef:
        """Uses an existing directory; only ``file://`` stores can be used locally."""
        if not existing.uri.startswith("file://"):
            msg = f"the local cloud can only adopt file:// stores; got {existing.uri!r}"
            raise BackendError(msg)
        return super().adopt(ctx, existing)
