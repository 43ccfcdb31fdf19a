"""Lineage: from a serving endpoint back to the data, through what the registry holds.

endpoint → model version → training run → pipeline version → git commit → data hashes.
Each hop is read from the stack outputs and the tracking server (MLflow protocol, so
every cloud works the same way), and cross-checked: a hop that disagrees with the one
before it is reported, never papered over.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_infra.errors import MlopsError

__all__ = ["DataLineage", "Lineage", "trace_endpoint"]


@dataclass(frozen=True)
class DataLineage:
    """One dataset a run read.

    Attributes:
        name: Data reference name.
        uri: Where it is.
        hash: Its content hash (``sha256:…``) or declared version (``version:…``).
    """

    name: str
    uri: str
    hash: str


@dataclass(frozen=True)
class Lineage:
    """Every hop from an endpoint to its data.

    Attributes:
        endpoint: Endpoint name.
        url: Its invocation URL.
        model: Registered model served.
        model_version: Version served.
        alias: Registry aliases pointing at that version.
        gate_outcome: The promotion gate's last outcome.
        run_id: Training run that produced the version.
        run_status: Its MLflow status.
        metrics: Its metrics.
        pipeline: Pipeline (or job) that ran.
        pipeline_version: Its content version.
        code_hash: Hash of the component code.
        config_hash: Hash of the step graph, parameters and images.
        data_hash: Hash of all data references together.
        git_commit: Commit the run was made from.
        git_dirty: Whether the checkout had uncommitted changes.
        stack: Stack the run was made in.
        environment: Environment the run was made in.
        data: Each dataset with its hash.
        mismatches: Hops that disagree (empty when the chain is consistent).
    """

    endpoint: str
    url: str | None
    model: str
    model_version: str
    alias: tuple[str, ...]
    gate_outcome: str | None
    run_id: str
    run_status: str
    metrics: Mapping[str, float]
    pipeline: str
    pipeline_version: str
    code_hash: str
    config_hash: str
    data_hash: str
    git_commit: str
    git_dirty: bool
    stack: str
    environment: str
    data: tuple[DataLineage, ...] = ()
    mismatches: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """Returns the lineage as JSON-ready data."""
        return asdict(self)

    def render(self) -> str:
        """Returns the lineage as an indented tree."""
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(self.metrics.items()))
        lines = [
            f"endpoint {self.endpoint}  {self.url or '(not deployed)'}",
            f"└─ model {self.model} version {self.model_version}"
            f"  (aliases: {', '.join(self.alias) or 'none'}; gate: {self.gate_outcome})",
            f"   └─ run {self.run_id}  ({self.run_status}; {metrics})",
            f"      └─ pipeline {self.pipeline} version {self.pipeline_version}"
            f"  (code {self.code_hash[:12]}, config {self.config_hash[:12]})",
            f"         ├─ git commit {self.git_commit}" + (" (dirty)" if self.git_dirty else ""),
            f"         ├─ made in stack {self.stack} (environment {self.environment})",
            f"         └─ data {self.data_hash[:12]}",
        ]
        lines += [f"            • {d.name}: {d.uri}  {d.hash}" for d in self.data]
        lines += [f"!! mismatch: {m}" for m in self.mismatches]
        return "\n".join(lines)


def _manifest(client: Any, run_id: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = client.download_artifacts(run_id, "mlops/manifest.json", folder)
        except Exception as error:  # MLflow raises several types for a missing artifact
            msg = f"run {run_id} has no mlops/manifest.json artifact: {error}"
            raise MlopsError(msg) from error
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def trace_endpoint(
    outputs: Mapping[str, Any],
    endpoint: str,
    *,
    username: str | None = None,
    password: str | None = None,
) -> Lineage:
    """Walks from ``endpoint`` (in a stack's ``outputs``) back to its data.

    Raises:
        MlopsError: the endpoint does not exist or serves nothing, or a hop is missing.
    """
    endpoints: Mapping[str, Any] = outputs.get("endpoints") or {}
    if endpoint not in endpoints:
        known = ", ".join(sorted(endpoints)) or "none"
        msg = f"no endpoint {endpoint!r} in the stack outputs; endpoints: {known}"
        raise MlopsError(msg)
    details: Mapping[str, Any] = endpoints[endpoint]
    model, version = str(details.get("model")), details.get("model_version")
    if not version:
        msg = f"endpoint {endpoint!r} serves no model version yet"
        raise MlopsError(msg)
    tracking_url = str(outputs.get("tracking_url"))
    if username and password:
        os.environ["MLFLOW_TRACKING_USERNAME"] = username
        os.environ["MLFLOW_TRACKING_PASSWORD"] = password
    from mlflow import MlflowClient  # noqa: PLC0415 - MLflow is heavy; import on use

    client: Any = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)
    model_version = client.get_model_version(model, str(version))
    run = client.get_run(model_version.run_id)
    tags: Mapping[str, str] = run.data.tags
    manifest = _manifest(client, run.info.run_id)
    mismatches: list[str] = []

    def check(what: str, first: object, second: object) -> None:
        if first != second:
            mismatches.append(f"{what}: {first!r} != {second!r}")

    decision: Mapping[str, Any] = details.get("decision") or {}
    check("served version vs gate decision", str(version), str(decision.get("served")))
    check(
        "model version tag vs run tag",
        model_version.tags.get("mlops.pipeline_version"),
        tags.get("mlops.pipeline_version"),
    )
    check(
        "run tag vs manifest version", tags.get("mlops.pipeline_version"), manifest.get("version")
    )
    check("run data hash vs manifest", tags.get("mlops.data_hash"), manifest.get("data_hash"))
    check("run code hash vs manifest", tags.get("mlops.code_hash"), manifest.get("code_hash"))
    data = tuple(
        DataLineage(name=name, uri=str(ref.get("uri")), hash=str(ref.get("hash")))
        for name, ref in sorted(dict(manifest.get("data") or {}).items())
    )
    for item in data:
        check(
            f"run tag mlops.data.{item.name} vs manifest",
            tags.get(f"mlops.data.{item.name}"),
            item.hash,
        )
    return Lineage(
        endpoint=endpoint,
        url=details.get("url"),
        model=model,
        model_version=str(version),
        alias=tuple(sorted(model_version.aliases or ())),
        gate_outcome=decision.get("outcome"),
        run_id=str(run.info.run_id),
        run_status=str(run.info.status),
        metrics={k: float(v) for k, v in run.data.metrics.items()},
        pipeline=str(tags.get("mlops.pipeline", "")),
        pipeline_version=str(tags.get("mlops.pipeline_version", "")),
        code_hash=str(tags.get("mlops.code_hash", "")),
        config_hash=str(tags.get("mlops.config_hash", "")),
        data_hash=str(tags.get("mlops.data_hash", "")),
        git_commit=str(tags.get("mlops.git_commit", "unknown")),
        git_dirty=tags.get("mlops.git_dirty") == "true",
        stack=str(tags.get("mlops.stack", "")),
        environment=str(tags.get("mlops.environment", "")),
        data=data,
        mismatches=tuple(mismatches),
    )
