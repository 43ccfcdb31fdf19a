"""``PromotionDecision``: the gate as a resource, evaluated on every ``pulumi up`` on every cloud.

A Python dynamic resource whose create/update read the candidate and the champion from
the model registry (MLflow protocol), apply the gate and output the decision. It never
moves the registry alias: that happens only once the served version is deployed (see
:class:`~mlops_infra.gates.alias.ModelAlias`). During ``up`` it is re-evaluated every time,
against the newest registered version (or the one a run in this ``up`` produced); previews
call neither create nor update and change nothing. Backends feed ``served_version`` and
``served_source`` (the model's artifact location) into whatever serves the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["DecisionInputs", "PromotionDecision", "decide"]

_INPUTS = (
    "model", "alias", "pinned_version", "candidate_version", "gate", "evidence",
    "tracking_url", "username", "password", "client_auth", "environment",
)  # fmt: skip


def _decide(
    props: dict[str, Any], olds: dict[str, Any] | None, over_rest: bool | None = None
) -> dict[str, Any]:
    from mlops_infra.gates.decision import evaluate_gate  # noqa: PLC0415 - provider side
    from mlops_infra.gates.registry_client import RegistryClient  # noqa: PLC0415
    from mlops_infra.specs import PromotionGate  # noqa: PLC0415

    registry = RegistryClient.of(props, over_rest=over_rest)
    model, alias = props["model"], props["alias"]
    proposed = (
        props.get("pinned_version")
        or props.get("candidate_version")
        or registry.latest_version(model)
    )
    candidate = registry.load(model, str(proposed)) if proposed else None
    if proposed and candidate is None:
        msg = f"model {model!r} has no version {proposed}"
        raise ValueError(msg)
    previous = registry.alias_version(model, alias)
    champion = registry.load(model, previous) if previous else None
    gate = PromotionGate.model_validate(props["gate"]) if props.get("gate") else None
    decision = evaluate_gate(gate, candidate, champion, props.get("evidence") or {})
    if decision.passed and decision.candidate:
        registry.tag(model, decision.candidate, f"mlops.gate.{props['environment']}", "passed")
    passed: list[str] = list((olds or {}).get("passed_pipeline_versions") or [])
    version = decision.candidate_pipeline_version
    if decision.passed and version and version not in passed:
        passed.append(version)
    served_source = registry.source(model, decision.served) if decision.served else None
    return {
        **{k: v for k, v in props.items() if not k.startswith("__")},
        # Later environments' gates (passed_in) read this history from the stack outputs.
        "decision": {**decision.as_output(), "passed_pipeline_versions": passed},
        "served_version": decision.served,
        "served_source": served_source,
        "passed_pipeline_versions": passed,
    }


def decide(props: dict[str, Any], *, over_rest: bool | None = None) -> dict[str, Any]:
    """What the gate's create does at ``pulumi up``, for callers outside the engine.

    ``mlops-infra rehearse`` runs the gate through this, with the inputs the program
    registered, against its local tracking server, asking it the way the cloud's gate
    would ask the cloud's server (``over_rest``, see
    :class:`~mlops_infra.gates.registry_client.RegistryClient`).
    """
    return _decide(props, None, over_rest)


class _DecisionProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(
            id_=f"gate-{props['model']}-{props['alias']}", outs=_decide(props, None)
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = [key for key in _INPUTS if olds.get(key) != news.get(key)]
        # ``reevaluate`` is set only during ``up``: a preview shows no change unless the
        # gate itself changed, while every ``up`` asks the registry again.
        return DiffResult(changes=bool(changes) or bool(news.get("reevaluate")), replaces=[])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_decide(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})


@dataclass(frozen=True, kw_only=True)
class DecisionInputs:
    """What a :class:`PromotionDecision` decides on.

    Attributes:
        model: Registered model.
        alias: Alias that names the served version (the champion).
        environment: Environment the decision is made in (recorded on the version).
        tracking_url: Tracking/registry URI.
        username: Basic-auth user, if any.
        password: Basic-auth password (secret), if any.
        client_auth: ``"module:function"`` giving the environment MLflow clients need to
            authenticate to this tracking server (see ``TrackingRef.client_auth``), if any.
        gate: The gate as plain data (``PromotionGate.model_dump(mode="json")``), or ``None``.
        candidate_version: Proposed version (e.g. a pipeline's ``model_version``), or
            ``None`` for the newest registered version.
        pinned_version: Serve exactly this version (rollback), gate still applied.
        evidence: Environment → pipeline versions that passed the gate there.
    """

    model: str
    alias: str
    environment: str
    tracking_url: pulumi.Input[str]
    username: pulumi.Input[str | None] = None
    password: pulumi.Input[str | None] = None
    client_auth: pulumi.Input[str | None] = None
    gate: Mapping[str, Any] | None = None
    candidate_version: pulumi.Input[str | None] = None
    pinned_version: str | None = None
    evidence: pulumi.Input[Mapping[str, Sequence[str]]] | None = None


class PromotionDecision(Resource, module="mlops", name="PromotionDecision"):
    """The promotion gate of one endpoint, evaluated on every ``pulumi up``."""

    decision: pulumi.Output[dict[str, Any]]
    """Outcome, candidate, served version, metric values, checks and reason."""

    served_version: pulumi.Output[str | None]
    """Version to serve after the decision (``None``: nothing has passed yet)."""

    served_source: pulumi.Output[str | None]
    """Artifact location of the served version's model (e.g. ``s3://.../model``)."""

    def __init__(
        self, name: str, inputs: DecisionInputs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the decision ``name``."""
        props: dict[str, Any] = {
            "model": inputs.model,
            "alias": inputs.alias,
            "environment": inputs.environment,
            "tracking_url": inputs.tracking_url,
            "username": inputs.username,
            "password": inputs.password,
            "client_auth": inputs.client_auth,
            "gate": dict(inputs.gate) if inputs.gate else None,
            "candidate_version": inputs.candidate_version,
            "pinned_version": inputs.pinned_version,
            "evidence": inputs.evidence,
            "reevaluate": not pulumi.runtime.is_dry_run(),
            "decision": None,
            "served_version": None,
            "served_source": None,
            "passed_pipeline_versions": None,
        }
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(_DecisionProvider(), name, props, options)
