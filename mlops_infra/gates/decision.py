"""Promotion decisions: does a candidate model version get served? Pure and table-testable.

Every backend evaluates gates the same way, at ``pulumi up``, with facts read from the
model registry; the decision and its evidence become a stack output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from mlops_infra.specs import PromotionGate

__all__ = [
    "PIPELINE_VERSION_TAG",
    "Check",
    "GateDecision",
    "ModelVersionInfo",
    "Outcome",
    "describe_decision",
    "evaluate_gate",
]

PIPELINE_VERSION_TAG = "mlops.pipeline_version"
"""Model-version tag naming the pipeline version that produced it."""

Outcome = Literal["promoted", "unchanged", "kept", "undeployed", "no-candidate"]
"""What happened: the candidate is now served; it already was; it failed and the previous
version stays; it failed and nothing is served; there is no version at all."""


@dataclass(frozen=True)
class ModelVersionInfo:
    """What the gate knows of a registered model version.

    Attributes:
        version: Registry version number (as text).
        metrics: Metrics of the run that produced it.
        tags: Its tags (lineage: pipeline version, data hash, ...).
    """

    version: str
    metrics: Mapping[str, float] = field(default_factory=dict[str, float])
    tags: Mapping[str, str] = field(default_factory=dict[str, str])

    @property
    def number(self) -> int:
        """The version as a number (0 when it is not numeric)."""
        return int(self.version) if self.version.isdigit() else 0

    @property
    def pipeline_version(self) -> str | None:
        """The pipeline version that produced it, if recorded."""
        return self.tags.get(PIPELINE_VERSION_TAG)


@dataclass(frozen=True)
class Check:
    """One condition of the gate and its result.

    Attributes:
        name: What was checked, e.g. ``accuracy >= 0.9``.
        passed: Whether it held (``None``: not applicable, e.g. no champion yet).
        detail: The values behind the result.
    """

    name: str
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class GateDecision:
    """The outcome of a gate, with its evidence.

    Attributes:
        outcome: See :data:`Outcome`.
        candidate: Version considered.
        served: Version served after the decision (``None``: nothing).
        previous: Version served before (the alias target), if any.
        checks: Every check made.
        metrics: The candidate's metrics.
        candidate_pipeline_version: Pipeline version that produced the candidate, if recorded.
    """

    outcome: Outcome
    candidate: str | None
    served: str | None
    previous: str | None
    checks: tuple[Check, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict[str, float])
    candidate_pipeline_version: str | None = None

    @property
    def passed(self) -> bool:
        """Whether the candidate passed every applicable check."""
        return self.candidate is not None and all(c.passed is not False for c in self.checks)

    @property
    def reason(self) -> str:
        """One sentence explaining the outcome."""
        failed = [c for c in self.checks if c.passed is False]
        if self.outcome == "no-candidate":
            return "no model version is registered yet"
        if self.outcome == "unchanged":
            return f"version {self.candidate} is already served"
        if self.outcome == "promoted":
            return f"version {self.candidate} passed every check and is now served"
        failures = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        keeps = f"version {self.served} stays served" if self.served else "nothing is served"
        return f"version {self.candidate} failed the gate ({failures}); {keeps}"

    def as_output(self) -> dict[str, Any]:
        """Returns the decision as plain data for stack outputs."""
        return {
            "outcome": self.outcome,
            "candidate": self.candidate,
            "candidate_pipeline_version": self.candidate_pipeline_version,
            "served": self.served,
            "previous": self.previous,
            "passed": self.passed,
            "reason": self.reason,
            "metrics": dict(sorted(self.metrics.items())),
            "checks": [
                {"check": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks
            ],
        }


def _condition_checks(gate: PromotionGate, candidate: ModelVersionInfo) -> list[Check]:
    checks: list[Check] = []
    for condition in gate.conditions:
        value = candidate.metrics.get(condition.metric)
        if value is None:
            logged = ", ".join(sorted(candidate.metrics)) or "none"
            checks.append(
                Check(
                    condition.describe(), False, f"metric not logged by the run (logged: {logged})"
                )
            )
        else:
            checks.append(
                Check(
                    condition.describe(), condition.holds(value), f"{condition.metric} = {value:g}"
                )
            )
    return checks


def _champion_check(
    gate: PromotionGate, candidate: ModelVersionInfo, champion: ModelVersionInfo | None
) -> list[Check]:
    comparison = gate.beat_champion
    if comparison is None:
        return []
    name = f"beats champion on {comparison.metric} by >= {comparison.min_improvement:g}"
    if champion is None or champion.version == candidate.version:
        return [Check(name, None, "no other version is served yet")]
    if candidate.number and candidate.number < champion.number:
        return [
            Check(
                name,
                None,
                f"rollback to version {candidate.version} from {champion.version}: "
                "comparison skipped",
            )
        ]
    ours, theirs = candidate.metrics.get(comparison.metric), champion.metrics.get(comparison.metric)
    if ours is None or theirs is None:
        return [Check(name, False, f"{comparison.metric} missing for candidate or champion")]
    gain = ours - theirs if comparison.higher_is_better else theirs - ours
    return [
        Check(
            name,
            gain >= comparison.min_improvement,
            f"candidate {ours:g} vs champion (v{champion.version}) {theirs:g}",
        )
    ]


def _environment_checks(
    gate: PromotionGate, candidate: ModelVersionInfo, evidence: Mapping[str, Sequence[str]]
) -> list[Check]:
    checks: list[Check] = []
    pipeline_version = candidate.pipeline_version
    for environment in gate.passed_in:
        passed_there = list(evidence.get(environment, ()))
        name = f"passed in {environment}"
        if pipeline_version is None:
            checks.append(Check(name, False, "the candidate records no pipeline version"))
        elif pipeline_version in passed_there:
            checks.append(Check(name, True, f"pipeline version {pipeline_version} passed there"))
        else:
            known = ", ".join(passed_there) or "none"
            checks.append(
                Check(
                    name,
                    False,
                    f"pipeline version {pipeline_version} never passed in {environment} "
                    f"(passed there: {known})",
                )
            )
    return checks


def evaluate_gate(
    gate: PromotionGate | None,
    candidate: ModelVersionInfo | None,
    champion: ModelVersionInfo | None,
    evidence: Mapping[str, Sequence[str]] | None = None,
) -> GateDecision:
    """Decides which version to serve.

    Args:
        gate: The endpoint's gate (``None`` serves any candidate).
        candidate: The version proposed (newest, or pinned); ``None`` when none exists.
        champion: The version currently served (the alias target), if any.
        evidence: Environment → pipeline versions that passed this gate there.
    """
    previous = champion.version if champion else None
    if candidate is None:
        return GateDecision("no-candidate", None, previous, previous)
    checks: list[Check] = []
    if gate is not None:
        checks += _condition_checks(gate, candidate)
        checks += _champion_check(gate, candidate, champion)
        checks += _environment_checks(gate, candidate, evidence or {})
    outcome: Outcome
    if all(c.passed is not False for c in checks):
        outcome = "unchanged" if previous == candidate.version else "promoted"
        served: str | None = candidate.version
    else:
        outcome = "kept" if previous is not None else "undeployed"
        served = previous
    return GateDecision(
        outcome,
        candidate=candidate.version,
        served=served,
        previous=previous,
        checks=tuple(checks),
        metrics=dict(candidate.metrics),
        candidate_pipeline_version=candidate.pipeline_version,
    )


def describe_decision(decision: Mapping[str, Any]) -> str:
    """One log line for a decision output (:meth:`GateDecision.as_output`).

    E.g. ``gate: kept; candidate 3 (accuracy=0.81); accuracy >= 0.9: FAIL; serving 2:
    version 3 failed the gate (…); version 2 stays served``.
    """
    logged = cast(Mapping[str, object], decision.get("metrics") or {})
    metrics = ", ".join(
        f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}"
        for k, v in sorted(logged.items())
    )
    verdicts: dict[object, str] = {True: "pass", False: "FAIL", None: "n/a"}
    checks = "; ".join(
        f"{c.get('check')}: {verdicts.get(c.get('passed'), '?')}"
        for c in cast(Sequence[Mapping[str, object]], decision.get("checks") or ())
    )
    return (
        f"gate: {decision.get('outcome')}; candidate {decision.get('candidate') or 'none'}"
        f" ({metrics or 'no metrics'}); {checks or 'no checks'}; "
        f"serving {decision.get('served') or 'nothing'}: {decision.get('reason')}"
    )
