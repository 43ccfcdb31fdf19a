"""What a rehearsal prints: per-step timings, where artifacts went, the gate, the prediction."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Report", "StepTiming"]


@dataclass(frozen=True)
class StepTiming:
    """One step as it ran.

    Attributes:
        name: Step (or job) name.
        seconds: Wall time, environment setup excluded.
        artifacts: Where its outputs went (emulated object-store URIs).
    """

    name: str
    seconds: float
    artifacts: tuple[str, ...] = ()


@dataclass
class Report:
    """Collects a rehearsal's results and prints them as they come.

    Attributes:
        stack: Stack rehearsed.
        cloud: Its cloud.
        steps: Steps in the order they ran.
        gates: Endpoint → the gate's decision output.
        predictions: Endpoint → the prediction its serving container answered.
        pipelines: Pipeline → wall seconds of its run (every step, staging included).
        mlflow_calls: Caller (a step, ``gate <endpoint>``) → the MLflow calls it made, by
            RPC name, where the cloud's rehearsal records them.
        out: Where lines are printed.
    """

    stack: str
    cloud: str
    steps: list[StepTiming] = field(default_factory=list[StepTiming])
    gates: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    predictions: dict[str, Any] = field(default_factory=dict[str, Any])
    pipelines: dict[str, float] = field(default_factory=dict[str, float])
    mlflow_calls: dict[str, frozenset[str]] = field(default_factory=dict[str, frozenset[str]])
    out: TextIO = sys.stdout

    def line(self, text: str) -> None:
        """Prints one progress line."""
        print(f"[rehearse {self.stack}] {text}", file=self.out, flush=True)

    def step(self, timing: StepTiming) -> None:
        """Records a finished step."""
        self.steps.append(timing)
        self.line(f"step {timing.name}: ok in {timing.seconds:.1f}s")
        for artifact in timing.artifacts:
            self.line(f"  artifact -> {artifact}")

    def calls(self, caller: str, calls: frozenset[str]) -> None:
        """Records the MLflow calls one caller made."""
        self.mlflow_calls[caller] = calls
        self.line(f"{caller}: MLflow calls {', '.join(sorted(calls)) or 'none'}")

    def pipeline(self, name: str, seconds: float) -> None:
        """Records a pipeline run's wall time."""
        self.pipelines[name] = seconds
        self.line(f"pipeline {name}: ran in {seconds:.1f}s")

    def gate(self, endpoint: str, decision: dict[str, Any]) -> None:
        """Records an endpoint's gate decision."""
        self.gates[endpoint] = decision
        self.line(f"gate {endpoint}: {decision.get('outcome')}: {decision.get('reason')}")

    def prediction(self, endpoint: str, value: Any) -> None:
        """Records the prediction an endpoint's serving container answered."""
        self.predictions[endpoint] = value
        self.line(f"serve {endpoint}: prediction {json.dumps(value)}")
