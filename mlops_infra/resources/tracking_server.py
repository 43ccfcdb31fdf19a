"""TrackingServer: MLflow experiment tracking and model registry, authenticated, never public."""

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
from mlops_infra.resources.artifact_store import StoreRef
from mlops_infra.resources.foundation import FoundationRef
from mlops_infra.resources.target import Target
from mlops_infra.specs import ExistingTrackingServer, TrackingServerSpec, effective_tracking

__all__ = ["TrackingRef", "TrackingServer", "TrackingServerArgs", "TrackingServerBackend"]


@dataclass(frozen=True, kw_only=True)
class TrackingRef:
    """Plain reference to a tracking server, for the workloads that log to it."""

    url: pulumi.Input[str]
    """Tracking URI (``MLFLOW_TRACKING_URI``)."""

    username: pulumi.Input[str | None] = None
    """Basic-auth user, when the server needs one."""

    password: pulumi.Input[str | None] = None
    """Basic-auth password (a secret), when the server needs one."""

    workload_username: pulumi.Input[str | None] = None
    """Basic-auth user of the workloads (training jobs, pipeline steps) when the server gives
    them their own, narrower than ``username`` (the deployer's); ``None``: they use
    ``username``."""

    workload_password: pulumi.Input[str | None] = None
    """Password (a secret) of ``workload_username``."""

    workload_users: bool = False
    """The server gives each workload (training job, pipeline) its own basic-auth user,
    which the backend's workloads create at ``up`` as ``username`` (the admin) with access
    to their own experiment and registered model only; ``workload_username`` is then
    unused."""

    id: pulumi.Input[str] | None = None
    """Cloud identifier of the tracking resource, for components that live inside it (the
    Azure ML workspace's ARM id: clusters, jobs and endpoints are created in it);
    ``None`` where nothing does."""

    client_auth: str | None = None
    """``"package.module:function"`` of a hook ``(tracking_url) -> {env var: value}`` giving
    what MLflow clients on the deployer's machine need to reach this server (a bearer
    token, an auth plugin's switch); ``None`` when basic auth (or nothing) suffices. The
    gate and the registry alias call it before every MLflow request."""


@dataclass(frozen=True, kw_only=True)
class TrackingServerArgs:
    """Arguments of :class:`TrackingServer`: create from ``spec`` or adopt ``existing``."""

    store: StoreRef
    """Artifact store the server keeps artifacts in."""

    target: Target = field(default_factory=Target)
    """Cloud and environment."""

    spec: TrackingServerSpec | None = None
    """What to create; default: ``TrackingServerSpec()`` (exclusive with ``existing``)."""

    existing: ExistingTrackingServer | None = None
    """Adopt this server instead of creating one."""

    admin_password: pulumi.Input[str] | None = None
    """Admin password (secret); default: generated and kept as a Pulumi secret."""

    foundation: FoundationRef | None = None
    """Shared infrastructure (network, registry, keys) to use."""


class TrackingServerBackend(Backend, ABC):
    """Implements :class:`TrackingServer` on one cloud."""

    @abstractmethod
    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        """Creates the server as children of ``ctx.component`` and returns its reference."""

    def adopt(
        self, ctx: BuildContext[TrackingServerArgs], existing: ExistingTrackingServer
    ) -> TrackingRef:
        """Returns the reference of a server run elsewhere; creates nothing by default."""
        return TrackingRef(
            url=existing.url, username=existing.username, password=ctx.args.admin_password
        )


class TrackingServer(pulumi.ComponentResource):
    """An MLflow tracking server and model registry over the artifact store.

    Its data (runs, metrics, registered models) survives replacement and destroy unless
    ``purge_on_delete`` is set.
    """

    def __init__(
        self, name: str, args: TrackingServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Creates (or adopts) the tracking server ``name``."""
        exclusive("TrackingServerArgs", args.spec, args.existing)
        # Tier defaults are applied once, here: the backend builds what the spec resolves to,
        # and the component registers it as its inputs for plans and policies to read.
        spec = effective_tracking(
            args.spec or TrackingServerSpec(existing=args.existing), args.target.profile
        )
        super().__init__(
            f"{TYPE_PREFIX}TrackingServer", name, component_inputs(args.target, spec), opts
        )
        existing = spec.existing
        context, backend = start_build(
            self, "tracking_server", TrackingServerBackend, name, args, spec=spec
        )
        ref = backend.adopt(context, existing) if existing else backend.create(context, spec)
        self._flavor: str = context.flavor.name
        self._url: pulumi.Output[str] = pulumi.Output.from_input(ref.url)
        self._username: pulumi.Output[str | None] = pulumi.Output.from_input(ref.username)
        self._password: pulumi.Output[str | None] = pulumi.Output.secret(ref.password)
        # Credentials a backend knows to be absent stay plain None: an output that resolves
        # to None reads as unknown in previews and would show every consumer as changed.
        self._ref: TrackingRef = TrackingRef(
            url=self.url,
            username=ref.username,
            password=None if ref.password is None else self.password,
            workload_username=ref.workload_username,
            workload_password=(
                None
                if ref.workload_password is None
                else pulumi.Output.secret(ref.workload_password)
            ),
            workload_users=ref.workload_users,
            id=ref.id,
            # The gate and the alias call the backend's auth hook through this reference.
            client_auth=ref.client_auth,
        )
        self.register_outputs(
            {"url": self.url, "username": self.username, "password": self.password}
        )

    @property
    def url(self) -> pulumi.Output[str]:
        """Tracking URI."""
        return self._url

    @property
    def username(self) -> pulumi.Output[str | None]:
        """Basic-auth user, or ``None`` when the server needs none (or uses cloud IAM)."""
        return self._username

    @property
    def password(self) -> pulumi.Output[str | None]:
        """Basic-auth password (secret), or ``None``."""
        return self._password

    @property
    def flavor(self) -> str:
        """The flavor that built it."""
        return self._flavor

    @property
    def ref(self) -> TrackingRef:
        """Reference to pass to the workloads that log to this server."""
        return self._ref
