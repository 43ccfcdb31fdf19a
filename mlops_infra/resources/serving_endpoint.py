"""ServingEndpoint: online inference for a registered model, deployed only through its gate."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from mlops_infra.resources._component import TYPE_PREFIX, Backend, BuildContext, start_build
from mlops_infra.resources.artifact_store import StoreRef
from mlops_infra.resources.foundation import FoundationRef
from mlops_infra.resources.target import Target
from mlops_infra.resources.tracking_server import TrackingRef
from mlops_infra.specs import ServingEndpointSpec, effective_endpoint

__all__ = ["EndpointResult", "ServingEndpoint", "ServingEndpointArgs", "ServingEndpointBackend"]


@dataclass(frozen=True, kw_only=True)
class ServingEndpointArgs:
    """Arguments of :class:`ServingEndpoint`."""

    spec: ServingEndpointSpec
    """Model, alias, gate, compute and scaling."""

    tracking: TrackingRef
    """Tracking server holding the model registry."""

    store: StoreRef
    """Artifact store the model artifacts are in."""

    target: Target = field(default_factory=Target)
    """Cloud and environment."""

    candidate_version: pulumi.Input[str | None] | None = None
    """Newest version of the model (e.g. a pipeline's ``model_version``): the gate's
    candidate. ``None``: the newest version in the registry at ``up`` time."""

    evidence: pulumi.Input[Mapping[str, Sequence[str]]] | None = None
    """Environment → pipeline versions that passed this gate there (for ``passed_in``)."""

    foundation: FoundationRef | None = None
    """Shared infrastructure (network, registry, keys) to use."""


@dataclass(frozen=True, kw_only=True)
class EndpointResult:
    """What a backend returns for an endpoint."""

    url: pulumi.Input[str | None]
    """Invocation URL, or ``None`` while nothing is deployed."""

    model_version: pulumi.Input[str | None]
    """Registered model version served, or ``None``."""

    decision: pulumi.Input[Mapping[str, Any]]
    """The gate's decision: outcome, candidate, served version, metric values, reasons."""


class ServingEndpointBackend(Backend, ABC):
    """Implements :class:`ServingEndpoint` on one cloud."""

    @abstractmethod
    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec
    ) -> EndpointResult:
        """Evaluates the gate at ``up`` and deploys the version it allows."""


class ServingEndpoint(pulumi.ComponentResource):
    """Online inference for one model; a version is served only once its gate passes.

    A failing candidate leaves the endpoint on the version it served (or undeployed);
    ``decision`` says which version, which metric values and why.
    """

    url: pulumi.Output[str | None]
    """Invocation URL, or ``None`` while nothing is deployed."""

    model_version: pulumi.Output[str | None]
    """Registered model version served."""

    decision: pulumi.Output[Mapping[str, Any]]
    """Outcome of the promotion gate, with its evidence."""

    model_name: str
    """Registered model served."""

    def __init__(
        self, name: str, args: ServingEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the endpoint ``name``."""
        super().__init__(f"{TYPE_PREFIX}ServingEndpoint", name, None, opts)
        # Tier defaults are applied once, here: the backend builds what the spec resolves to.
        spec = effective_endpoint(args.spec, args.target.profile)
        self.model_name = spec.model
        context, backend = start_build(
            self, "serving_endpoint", ServingEndpointBackend, name, args, spec=spec
        )
        result = backend.create(context, spec)
        self.url = pulumi.Output.from_input(result.url)
        self.model_version = pulumi.Output.from_input(result.model_version)
        self.decision = pulumi.Output.from_input(result.decision)
        self.register_outputs(
            {"url": self.url, "model_version": self.model_version, "decision": self.decision}
        )
