"""Dynamic providers are pickled by reference (module and class name) into every stack's
state: renaming or moving one breaks `pulumi up`/`destroy` of existing stacks. These names
are a contract; change them only with an alias left at the old place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pulumi.dynamic import ResourceProvider

import mlops_infra

PINNED = {
    "mlops_infra.backends.aws._generated_secret:_GeneratedSecretProvider",
    "mlops_infra.backends.aws.endpoint_deployment:_DeploymentProvider",
    "mlops_infra.backends.aws.image_build:_BuildProvider",
    "mlops_infra.backends.gcp.image_build:_BuildProvider",
    "mlops_infra.backends.aws.pipeline_run:_RunProvider",
    "mlops_infra.backends.aws.training_run:_RunProvider",
    "mlops_infra.backends.azure._deployer_access:_AccessProvider",
    "mlops_infra.backends.azure._propagation:_WaitProvider",
    "mlops_infra.backends.azure.online_release:_ReleaseProvider",
    "mlops_infra.backends.azure.pipeline_run:_RunProvider",
    "mlops_infra.backends.gcp._custom_role:_SuffixProvider",
    "mlops_infra.backends.gcp._deployment:_DeploymentProvider",
    "mlops_infra.backends.gcp._legacy_providers:LegacyBookkeepingProvider",
    "mlops_infra.backends.gcp._revisions:_PlanProvider",
    "mlops_infra.backends.gcp._run:_RunProvider",
    "mlops_infra.backends.gcp._secrets:_PasswordProvider",
    "mlops_infra.backends.gcp._vertex:_CustomJobProvider",
    "mlops_infra.backends.gcp._workflow:_ExecutionProvider",
    "mlops_infra.backends.gcp.mlflow_users:_WorkloadUserProvider",
    "mlops_infra.backends.local.artifact_store:_StoreProvider",
    "mlops_infra.backends.local.pipeline:_PipelineProvider",
    "mlops_infra.backends.local.pipeline:_ScheduleProvider",
    "mlops_infra.backends.local.serving_endpoint:_ServerProvider",
    "mlops_infra.backends.local.tracking_server:_ServerProvider",
    "mlops_infra.backends.local.training_cluster:_SlotsProvider",
    "mlops_infra.backends.local.training_job:_JobProvider",
    "mlops_infra.gates.alias:_AliasProvider",
    "mlops_infra.gates.resource:_DecisionProvider",
}


MOVED = {
    "mlops_infra.backends.aws._generated:_GeneratedSecretProvider": (
        "mlops_infra.backends.aws._generated_secret:_GeneratedSecretProvider"
    ),
}
"""Old place -> new place of providers that moved: the old name must still resolve."""


def _providers() -> set[str]:
    found: set[str] = set()
    for info in pkgutil.walk_packages(mlops_infra.__path__, "mlops_infra."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, ResourceProvider)
                and value.__module__ == module.__name__
                and not inspect.isabstract(value)
                and value.__name__ != "EngineBoundProvider"
            ):
                found.add(f"{value.__module__}:{value.__qualname__}")
    return found


def test_dynamic_provider_names_are_stable() -> None:
    assert _providers() == PINNED


def _resolve(path: str) -> object:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def test_moved_providers_still_resolve_at_their_old_place() -> None:
    for old, new in MOVED.items():
        assert new in PINNED
        assert _resolve(old) is _resolve(new), old
