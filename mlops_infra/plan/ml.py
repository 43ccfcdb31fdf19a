"""The ML view of a plan: pipelines, jobs, endpoints and clusters in the words reviewers use.

Everything is read from what the components registered (:mod:`mlops_infra.plan.components`):
their effective specs (tier defaults applied) and, for pipelines and jobs, the version
manifests they computed, with per-file hashes kept so that a diff of two plan files can
say which component files changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlops_infra.plan.components import RegisteredComponent, registered_components
from mlops_infra.plan.model import PlannedResource
from mlops_infra.specs import (
    PipelineSpec,
    ServingEndpointSpec,
    TrainingClusterSpec,
    TrainingJobSpec,
)
from mlops_infra.versioning import component_files

__all__ = ["describe_gate", "ml_summary"]


def describe_gate(endpoint: ServingEndpointSpec) -> dict[str, Any] | None:
    """Returns the endpoint's gate as plain data: conditions, champion rule, environments."""
    gate = endpoint.gate
    if gate is None:
        return None
    champion = gate.beat_champion
    return {
        "conditions": [
            {"metric": c.metric, "op": c.op, "threshold": c.threshold} for c in gate.conditions
        ],
        "beat_champion": None
        if champion is None
        else (
            f"{champion.metric} {'higher' if champion.higher_is_better else 'lower'} than the "
            f"champion by at least {champion.min_improvement:g}"
        ),
        "passed_in": list(gate.passed_in),
    }


def _step_files(spec: PipelineSpec, project_dir: Path) -> dict[str, list[str]]:
    source = project_dir / spec.source_dir
    return {
        step.name: [
            path.relative_to(source).as_posix()
            for path in component_files(source, [step.component])
        ]
        for step in spec.steps
    }


def _manifest(component: RegisteredComponent) -> dict[str, Any]:
    manifest = component.manifest
    return {
        "code": dict(manifest.get("code") or {}),
        "data": dict(manifest.get("data") or {}),
        "config_hash": manifest.get("config_hash"),
    }


def _pipeline(component: RegisteredComponent, project_dir: Path) -> dict[str, Any]:
    spec = component.spec_as(PipelineSpec)
    version = component.manifest.get("version")
    files = _step_files(spec, project_dir)
    manifest = _manifest(component)
    return {
        "version": version,
        "deployed_version": spec.version or version,
        "model_name": spec.registered_model,
        "schedule": spec.schedule.cron if spec.schedule else None,
        "run_on_change": spec.run_on_change,
        "order": [step.name for step in spec.ordered_steps()],
        "steps": {
            step.name: {
                "component": step.component,
                "depends_on": list(step.depends_on),
                "cluster": step.cluster,
                "nodes": step.nodes,
                "image": step.image or spec.image,
                "parameters": {**spec.parameters, **step.parameters},
                "files": files[step.name],
            }
            for step in spec.ordered_steps()
        },
        "code": manifest["code"],
        "data": manifest["data"],
        "config_hash": manifest["config_hash"],
    }


def _job(component: RegisteredComponent) -> dict[str, Any]:
    spec = component.spec_as(TrainingJobSpec)
    manifest = _manifest(component)
    return {
        "version": component.manifest.get("version"),
        "component": spec.component,
        "output_model": spec.output_model,
        "cluster": spec.cluster,
        "image": spec.image,
        "parameters": dict(spec.parameters),
        "code": manifest["code"],
        "data": manifest["data"],
    }


def _endpoint(spec: ServingEndpointSpec) -> dict[str, Any]:
    return {
        "model": spec.model,
        "alias": spec.alias,
        "model_version": spec.model_version,
        "gate": describe_gate(spec),
        "gpu": spec.gpu,
        "gpu_count": spec.gpu_count if spec.gpu else 0,
        "instance_type": spec.instance_type,
        "min_replicas": spec.min_replicas,
        "max_replicas": spec.max_replicas,
        "canary_percent": spec.canary_percent,
        "public": spec.public,
    }


def _cluster(spec: TrainingClusterSpec) -> dict[str, Any]:
    return {
        "gpu": spec.gpu,
        "gpu_count": spec.gpu_count if spec.gpu else 0,
        "instance_type": spec.instance_type,
        "min_nodes": spec.min_nodes,
        "max_nodes": spec.max_nodes,
        "spot": spec.spot,
        "adopted": spec.existing is not None,
    }


def ml_summary(
    resources: Iterable[PlannedResource],
    project_dir: Path,
    outputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Returns the pipelines, jobs, endpoints and clusters of a program run as plain data.

    Args:
        resources: The run's resources, in registration order; the components among them
            are read (their registered effective specs and manifests).
        project_dir: Project root (component code is relative to it).
        outputs: Masked stack outputs; gate decisions are taken from them.
    """
    components = registered_components(resources)
    endpoint_outputs: Mapping[str, Any] = (outputs or {}).get("endpoints") or {}
    endpoints: dict[str, Any] = {}
    for component in (c for c in components if c.kind == "ServingEndpoint"):
        spec = component.spec_as(ServingEndpointSpec)
        summary = _endpoint(spec)
        published: Mapping[str, Any] = endpoint_outputs.get(spec.name) or {}
        summary["decision"] = published.get("decision")
        endpoints[spec.name] = summary
    pipelines: dict[str, Any] = {}
    jobs: dict[str, Any] = {}
    clusters: dict[str, Any] = {}
    for component in components:
        if component.kind == "Pipeline":
            pipelines[str(component.spec.get("name"))] = _pipeline(component, project_dir)
        elif component.kind == "TrainingJob":
            jobs[str(component.spec.get("name"))] = _job(component)
        elif component.kind == "TrainingCluster":
            spec = component.spec_as(TrainingClusterSpec)
            clusters[spec.name] = _cluster(spec)
    return {"pipelines": pipelines, "jobs": jobs, "endpoints": endpoints, "clusters": clusters}
