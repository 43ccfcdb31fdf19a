"""ServingEndpoint: online inference for a registered model, deployed only through its gate.

The component owns the invariants every cloud shares, so no backend can skip them:

1. ``<name>-gate`` (:class:`~mlops_infra.gates.PromotionDecision`) decides on every
   ``pulumi up`` which registered version may be served;
2. the backend deploys that version (or nothing, while nothing has passed: the endpoint
   is then *pending*, which is a state, not an error) and reports the version its cloud
   confirms it serves;
3. ``<name>-alias`` (:class:`~mlops_infra.gates.ModelAlias`) points the registry alias at
   the confirmed version only after the deployment finished.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from mlops_infra.gates import (
    AliasInputs,
    DecisionInputs,
    ModelAlias,
    PromotionDecision,
    describe_decision,
)
from mlops_infra.resources._component import (
    TYPE_PREFIX,
    Backend,
    BuildContext,
    component_inputs,
    start_build,
)
from mlops_infra.resources.artifact_store import StoreRef
from mlops_infra.resources.foundation import FoundationRef
from mlops_infra.resources.target import Target
from mlops_infra.resources.tracking_server import TrackingRef
from mlops_infra.specs import ServingEndpointSpec, effective_endpoint

__all__ = [
    "EndpointResult",
    "ServedModel",
    "ServingEndpoint",
    "ServingEndpointArgs",
    "ServingEndpointBackend",
]


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
class ServedModel:
    """What the promotion gate lets the backend serve, decided at ``pulumi up``."""

    version: pulumi.Output[str | None]
    """Registered version to serve; ``None`` while no version has passed the gate."""

    source: pulumi.Output[str | None]
    """Where that version's model artifacts are (its registry download URI), or ``None``."""

    decision: pulumi.Output[Mapping[str, Any]]
    """The gate's decision: outcome, candidate, served version, metric values, reasons."""


@dataclass(frozen=True, kw_only=True)
class EndpointResult:
    """What a backend returns for an endpoint."""

    url: pulumi.Input[str | None]
    """Invocation URL, or ``None`` while nothing is deployed."""

    deployed_version: pulumi.Input[str | None]
    """Version the cloud confirms it serves once the deployment finished (after a
    rollback: the version rolled back to), or ``None`` while nothing is deployed."""

    deployment: Sequence[pulumi.Resource] = ()
    """Resources that must finish deploying before the registry alias moves."""


class ServingEndpointBackend(Backend, ABC):
    """Implements :class:`ServingEndpoint` on one cloud."""

    @abstractmethod
    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Deploys ``served.version`` (nothing while it is ``None``), never raising for that."""


class ServingEndpoint(pulumi.ComponentResource):
    """Online inference for one model; a version is served only once its gate passes.

    A failing candidate leaves the endpoint on the version it served (or pending, while no
    version has passed); ``decision`` says which version, which metric values and why.
    """

    def __init__(
        self, name: str, args: ServingEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the endpoint ``name``."""
        # Tier defaults are applied once, here: the backend builds what the spec resolves to,
        # and the component registers it as its inputs for plans and policies to read.
        spec = effective_endpoint(args.spec, args.target.profile)
        super().__init__(
            f"{TYPE_PREFIX}ServingEndpoint", name, component_inputs(args.target, spec), opts
        )
        self._model_name: str = spec.model
        context, backend = start_build(
            self, "serving_endpoint", ServingEndpointBackend, name, args, spec=spec
        )
        tracking = args.tracking
        gate = PromotionDecision(
            context.child_name("gate"),
            DecisionInputs(
                model=spec.model,
                alias=spec.alias,
                environment=args.target.environment,
                tracking_url=tracking.url,
                username=tracking.username,
                password=tracking.password,
                client_auth=tracking.client_auth,
                gate=spec.gate.model_dump(mode="json") if spec.gate else None,
                candidate_version=args.candidate_version,
                pinned_version=str(spec.model_version) if spec.model_version else None,
                evidence=args.evidence,
            ),
            context.opts(),
        )
        if pulumi.runtime.is_dry_run():
            pulumi.log.info(
                "the promotion gate is re-evaluated at pulumi up against the newest "
                "registered version",
                self,
            )
        else:
            gate.decision.apply(lambda decision: _log_decision(self, decision))
        served = ServedModel(
            version=gate.served_version, source=gate.served_source, decision=gate.decision
        )
        result = backend.create(context, spec, served)
        deployed = pulumi.Output.from_input(result.deployed_version)
        ModelAlias(
            context.child_name("alias"),
            AliasInputs(
                model=spec.model,
                alias=spec.alias,
                version=deployed,
                tracking_url=tracking.url,
                username=tracking.username,
                password=tracking.password,
                client_auth=tracking.client_auth,
            ),
            context.opts(depends_on=[gate, *result.deployment]),
        )
        self._url: pulumi.Output[str | None] = pulumi.Output.from_input(result.url)
        self._model_version: pulumi.Output[str | None] = deployed
        self._status: pulumi.Output[str] = deployed.apply(lambda v: "serving" if v else "pending")
        self._decision: pulumi.Output[Mapping[str, Any]] = gate.decision
        self.register_outputs(
            {
                "url": self.url,
                "model_version": self.model_version,
                "status": self.status,
                "decision": self.decision,
            }
        )

    @property
    def url(self) -> pulumi.Output[str | None]:
        """Invocation URL, or ``None`` while nothing is deployed."""
        return self._url

    @property
    def model_version(self) -> pulumi.Output[str | None]:
        """Registered model version the cloud confirms it serves (``None``: pending)."""
        return self._model_version

    @property
    def status(self) -> pulumi.Output[str]:
        """``serving`` once a version is deployed, ``pending`` while none has passed the gate."""
        return self._status

    @property
    def decision(self) -> pulumi.Output[Mapping[str, Any]]:
        """Outcome of the promotion gate, with its evidence and reason."""
        return self._decision

    @property
    def model_name(self) -> str:
        """Registered model served."""
        return self._model_name


def _log_decision(endpoint: pulumi.Resource, decision: Mapping[str, Any] | None) -> None:
    """Prints the gate's decision as an info line of the endpoint during ``up``."""
    if decision:
        pulumi.log.info(describe_decision(decision), endpoint)
