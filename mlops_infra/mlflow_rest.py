"""MLflow REST calls, named the way MLflow's own service definitions name them.

A cloud authorizes MLflow per call (SageMaker MLflow: one IAM action per REST method,
``sagemaker-mlflow:CreateRun``...), so what a role must grant follows from which calls the
runtime makes. Those calls are *recorded*, not guessed: ``mlops-infra rehearse`` puts a
recording proxy in front of its MLflow server (:mod:`mlops_infra.rehearse.recorder`) and
names every request with :func:`call_name`, which reads MLflow's protobuf service
descriptors (``mlflow/protos/service.proto``, ``model_registry.proto``,
``mlflow_artifacts.proto``: each RPC's ``(rpc).endpoints`` option holds its HTTP method
and path). :data:`WORKLOAD_CALLS` and :data:`GATE_CALLS` are what a rehearsal of the
``dev`` example recorded (MLflow 3.x client); a rehearsal fails when a caller makes a call
its role does not grant, and the rehearse integration test when the recording differs
from these sets, so they cannot drift from what the code does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = [
    "ALIAS_CALLS",
    "ARTIFACT_CALLS",
    "DEPLOYER_CALLS",
    "GATE_CALLS",
    "WORKLOAD_CALLS",
    "call_name",
    "unexpected_calls",
]

WORKLOAD_CALLS: frozenset[str] = frozenset({
    "CreateExperiment", "GetExperimentByName", "SearchRuns", "CreateRun", "GetRun",
    "UpdateRun", "LogBatch", "CreateRegisteredModel", "GetRegisteredModel", "CreateModelVersion",
    "SetModelVersionTag",
})  # fmt: skip
"""What a pipeline's steps and its register step call (the runtime: lineage run, step
runs, metrics, the model logged as run artifacts, its registration, the version's
lineage tags and the run's end), as a rehearsal of the ``dev`` example recorded them
(artifact transfers excluded: the clouds' servers hand clients the artifact store's own
URIs). No logged-model call: :meth:`mlops_infra.runtime.StepContext.log_model` logs run
artifacts, which every tracking server serves (Azure ML does not serve MLflow 3's logged
models)."""

GATE_CALLS: frozenset[str] = frozenset({
    "SearchModelVersions", "GetRegisteredModel", "GetModelVersion", "GetModelVersionByAlias",
    "GetRun", "GetModelVersionDownloadUri", "SetModelVersionTag",
})  # fmt: skip
"""What the promotion gate calls (candidate, champion, metrics, artifact location, pass
tag), as a rehearsal of the ``dev`` example recorded them."""

ALIAS_CALLS: frozenset[str] = frozenset({"SetRegisteredModelAlias"})
"""What moving the serving alias calls once the endpoint serves the version
(``RegistryClient.promote``): read from the code, not recorded (rehearse serves the gate's
version but moves no alias)."""

DEPLOYER_CALLS: frozenset[str] = GATE_CALLS | ALIAS_CALLS
"""What ``pulumi up`` calls from the deployer's machine: the gate, the alias, and the
pipeline run's lookup of the version it registered (``SearchModelVersions``)."""

ARTIFACT_CALLS: frozenset[str] = frozenset({
    "downloadArtifact", "uploadArtifact", "listArtifacts", "deleteArtifact",
    "createMultipartUpload", "completeMultipartUpload", "abortMultipartUpload",
    "getPresignedDownloadUrl",
})  # fmt: skip
"""The artifact-proxy calls (``mlflow-artifacts.proto``): made only where a server proxies
artifacts, never against the clouds' servers, whose clients use the object store."""


_TEMPLATE = re.compile(r"<path:[^>]+>|\{[^}]+\}")
_VALUE = "[^?]+"


@functools.cache
def _routes() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    # Imported on use: the descriptors pull in protobuf (the tracking client is loaded anyway
    # wherever calls are recorded).
    from mlflow.protos import (  # noqa: PLC0415
        databricks_pb2,
        mlflow_artifacts_pb2,
        model_registry_pb2,
        service_pb2,
    )

    routes: list[tuple[str, re.Pattern[str], str]] = []
    for module in (service_pb2, model_registry_pb2, mlflow_artifacts_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rpc = method.GetOptions().Extensions[databricks_pb2.rpc]
                name = method.name if module is mlflow_artifacts_pb2 else _upper_first(method.name)
                for endpoint in rpc.endpoints:
                    version = f"{endpoint.since.major}.{endpoint.since.minor}"
                    segments = endpoint.path.strip("/").split("/")
                    pattern = "/".join(_segment_pattern(segment) for segment in segments)
                    compiled = re.compile(rf"/(?:ajax-)?api/{re.escape(version)}/{pattern}")
                    routes.append((endpoint.method.upper(), compiled, name))
    # Literal paths before templated ones: `/logged-models/search` is not a model id.
    routes.sort(key=lambda route: (_VALUE in route[1].pattern, -len(route[1].pattern)))
    return tuple(routes)


def _segment_pattern(segment: str) -> str:
    # `{model_id}` and `<path:artifact_path>` are values (a path may hold slashes).
    return _VALUE if _TEMPLATE.fullmatch(segment) else re.escape(segment)


def _upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def call_name(method: str, path: str) -> str | None:
    """The RPC name (``CreateRun``) of an MLflow REST request; ``None`` for other paths.

    ``path`` may carry a query string; both ``/api/`` and the UI's ``/ajax-api/`` routes
    count. Artifact-proxy calls keep the proto's lower-camel names (``uploadArtifact``).
    """
    bare = path.split("?", 1)[0]
    for verb, pattern, name in _routes():
        if verb == method.upper() and pattern.fullmatch(bare):
            return name
    return None


def unexpected_calls(recorded: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The recorded calls outside ``allowed`` (artifact-proxy calls ignored), sorted."""
    return sorted(set(recorded) - set(allowed) - ARTIFACT_CALLS)
