"""The ML view of a plan: pipelines, jobs, endpoints and clusters in the words reviewers use.

Versions come from the same manifests the components compute
(:func:`~mlops_infra.versioning.pipeline_manifest`), with per-file hashes kept so that a
diff of two plan files can say which component files changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_infra.specs import PipelineSpec, ServingEndpointSpec, StackSpec, effective_endpoint
from mlops_infra.versioning import HashCache, component_files, job_manifest, pipeline_manifest

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


def _pipeline(spec: PipelineSpec, project_dir: Path, cache: HashCache) -> dict[str, Any]:
    manifest = pipeline_manifest(spec, project_dir, cache)
    files = _step_files(spec, project_dir)
    return {
        "version": manifest.version,
        "deployed_version": spec.version or manifest.version,
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
        "code": dict(manifest.code),
        "data": {name: dict(ref) for name, ref in manifest.data.items()},
        "config_hash": manifest.config_hash,
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


def ml_summary(
    spec: StackSpec, project_dir: Path, outputs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Returns the stack's pipelines, jobs, endpoints and clusters as plain data.

    Args:
        spec: The stack spec.
        project_dir: Project root (component code and data are relative to it).
        outputs: Masked stack outputs; gate decisions are taken from them.
    """
    cache = HashCache()
    endpoint_outputs: Mapping[str, Any] = (outputs or {}).get("endpoints") or {}
    endpoints: dict[str, Any] = {}
    for endpoint in spec.endpoints:
        summary = _endpoint(effective_endpoint(endpoint, spec.profile))
        published: Mapping[str, Any] = endpoint_outputs.get(endpoint.name) or {}
        summary["decision"] = published.get("decision")
        endpoints[endpoint.name] = summary
    jobs: dict[str, Any] = {}
    for job in spec.jobs:
        manifest = job_manifest(job, project_dir, cache)
        jobs[job.name] = {
            "version": manifest.version,
            "component": job.component,
            "output_model": job.output_model,
            "cluster": job.cluster,
            "image": job.image,
            "parameters": dict(job.parameters),
            "code": dict(manifest.code),
            "data": {name: dict(ref) for name, ref in manifest.data.items()},
        }
    return {
        "pipelines": {p.name: _pipeline(p, project_dir, cache) for p in spec.pipelines},
        "jobs": jobs,
        "endpoints": endpoints,
        "clusters": {
            c.name: {
                "gpu": c.gpu,
                "gpu_count": c.gpu_count if c.gpu else 0,
                "instance_type": c.instance_type,
                "min_nodes": c.min_nodes,
                "max_nodes": c.max_nodes,
                "spot": c.spot,
                "adopted": c.existing is not None,
            }
            for c in spec.clusters
        },
    }
