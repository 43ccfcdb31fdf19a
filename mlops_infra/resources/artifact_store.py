"""ArtifactStore: a private, versioned, encrypted bucket (or directory) for ML artifacts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import pulumi

from mlops_infra.resources._component import (
    TYPE_PREFIX,
    Backend,
    BuildContext,
    component_inputs,
    exclusive,
    start_build,
)
from mlops_infra.resources.foundation import FoundationRef
from mlops_infra.resources.target import Target
from mlops_infra.specs import ArtifactStoreSpec, ExistingArtifactStore

__all__ = [
    "ArtifactStore",
    "ArtifactStoreArgs",
    "ArtifactStoreBackend",
    "StoreRef",
    "bucket_of",
]


@dataclass(frozen=True, kw_only=True)
class StoreRef:
    """Plain reference to an artifact store, for the components that write to it."""

    uri: pulumi.Input[str]
    """Store URI (``s3://bucket``, ``gs://bucket``, ``https://acct.blob.../container``, ``file:///dir``)."""

    encryption_key: pulumi.Input[str | None] = None
    """Key that encrypts the store, when it has a customer-managed one."""


@dataclass(frozen=True, kw_only=True)
class ArtifactStoreArgs:
    """Arguments of :class:`ArtifactStore`: create from ``spec`` or adopt ``existing``."""

    target: Target = field(default_factory=Target)
    """Cloud and environment."""

    spec: ArtifactStoreSpec | None = None
    """What to create; default: ``ArtifactStoreSpec()`` (exclusive with ``existing``)."""

    existing: ExistingArtifactStore | None = None
    """Adopt this store instead of creating one."""

    foundation: FoundationRef | None = None
    """Shared infrastructure (keys, network) to use."""


class ArtifactStoreBackend(Backend, ABC):
    """Implements :class:`ArtifactStore` on one cloud."""

    @abstractmethod
    def create(self, ctx: BuildContext[ArtifactStoreArgs], spec: ArtifactStoreSpec) -> StoreRef:
        """Creates the store as children of ``ctx.component`` and returns its reference."""

    def adopt(
        self, ctx: BuildContext[ArtifactStoreArgs], existing: ExistingArtifactStore
    ) -> StoreRef:
        """Returns the reference of a store created elsewhere; creates nothing by default."""
        del ctx
        return StoreRef(uri=existing.uri, encryption_key=existing.encryption_key)


def bucket_of(uri: str) -> str:
    """Returns the bucket (or container, or directory) part of a store URI."""
    rest = uri.split("://", 1)[-1]
    if uri.startswith("file://"):
        return rest
    if uri.startswith("https://"):
        parts = rest.split("/")
        return parts[1] if len(parts) > 1 else ""
    return rest.split("/", 1)[0].split("@", 1)[0]


class ArtifactStore(pulumi.ComponentResource):
    """Datasets, models and pipeline packages: private, versioned, encrypted, retained.

    Stateful: protected and retained on delete in production; its data survives
    ``pulumi destroy`` unless ``purge_on_delete`` is set.
    """

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Creates (or adopts) the artifact store ``name``."""
        exclusive("ArtifactStoreArgs", args.spec, args.existing)
        spec = args.spec or ArtifactStoreSpec(existing=args.existing)
        super().__init__(
            f"{TYPE_PREFIX}ArtifactStore", name, component_inputs(args.target, spec), opts
        )
        existing = spec.existing
        context, backend = start_build(
            self, "artifact_store", ArtifactStoreBackend, name, args, spec=spec
        )
        ref = backend.adopt(context, existing) if existing else backend.create(context, spec)
        self._flavor: str = context.flavor.name
        self._adopted: bool = existing is not None
        self._uri: pulumi.Output[str] = pulumi.Output.from_input(ref.uri)
        self._encryption_key: pulumi.Output[str | None] = pulumi.Output.from_input(
            ref.encryption_key
        )
        self.register_outputs({"uri": self.uri, "encryption_key": self.encryption_key})

    @property
    def uri(self) -> pulumi.Output[str]:
        """Store URI; MLflow and the pipelines write under it."""
        return self._uri

    @property
    def encryption_key(self) -> pulumi.Output[str | None]:
        """Customer-managed key encrypting the store, if any."""
        return self._encryption_key

    @property
    def flavor(self) -> str:
        """The flavor that built it."""
        return self._flavor

    @property
    def adopted(self) -> bool:
        """Whether the store was adopted (``existing``) rather than created."""
        return self._adopted

    @property
    def ref(self) -> StoreRef:
        """Reference to pass to the components that use this store."""
        return StoreRef(uri=self.uri, encryption_key=self.encryption_key)
