"""The Pulumi program: stack config → :class:`StackSpec` → :class:`MlopsStack` → stack outputs.

``pulumi up`` runs it (the project's ``__main__.py`` calls :func:`main`); ``mlops-infra
plan`` runs the same code under mocks. An invalid config fails before any resource is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi

from mlops_infra.errors import SpecValidationError
from mlops_infra.offline.collection import apply_synthesis_policy
from mlops_infra.offline.stack_traces import install_fast_stack_traces
from mlops_infra.offline.unknowns import install_acyclic_unknowns
from mlops_infra.registry import Registry
from mlops_infra.resources import MlopsStack, MlopsStackArgs
from mlops_infra.specs import StackSpec
from mlops_infra.specs.loading import CONFIG_NAMESPACE, TOP_LEVEL_KEYS, spec_from_config

__all__ = [
    "STACK_RESOURCE_NAME",
    "apply_program_settings",
    "build_stack",
    "main",
    "project_root",
    "read_spec",
    "secret_keys",
]

STACK_RESOURCE_NAME = "mlops"
"""Name of the root :class:`MlopsStack` component (part of every URN; never changes)."""


def read_spec(registry: Registry | None = None) -> StackSpec:
    """Reads the running stack's ``mlops:*`` config into a validated spec.

    Raises:
        pulumi.RunError: the config is invalid (one line per problem); nothing is registered.
    """
    config = pulumi.Config(CONFIG_NAMESPACE)
    values: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        value = config.get(key)
        if value is not None:
            values[f"{CONFIG_NAMESPACE}:{key}"] = value
    stack: object = config.get_object("stack")
    if stack is not None:
        values[f"{CONFIG_NAMESPACE}:stack"] = stack
    try:
        return spec_from_config(values, registry=registry)
    except SpecValidationError as error:
        msg = f"invalid stack config for stack {pulumi.get_stack()!r}:\n{error}"
        raise pulumi.RunError(msg) from None


def secret_keys(spec: StackSpec) -> list[str]:
    """Returns the secret config keys the spec refers to, as written in the spec."""
    keys = [spec.tracking.admin_password_config_key]
    if spec.tracking.existing is not None:
        keys.append(spec.tracking.existing.password_config_key)
    return [key for key in keys if key]


def _read_secrets(spec: StackSpec) -> dict[str, pulumi.Output[str]]:
    secrets: dict[str, pulumi.Output[str]] = {}
    for written in secret_keys(spec):
        namespace, _, key = written.rpartition(":")
        secrets[written] = pulumi.Config(namespace or CONFIG_NAMESPACE).require_secret(key)
    return secrets


def build_stack(
    spec: StackSpec,
    *,
    project_dir: Path | None = None,
    secrets: Mapping[str, pulumi.Input[str]] | None = None,
    registry: Registry | None = None,
) -> MlopsStack:
    """Builds the :class:`MlopsStack` of ``spec`` and exports its summary as stack outputs."""
    stack = MlopsStack(
        STACK_RESOURCE_NAME,
        MlopsStackArgs(
            spec=spec,
            project_dir=project_dir or Path.cwd(),
            secrets=dict(secrets or {}),
            registry=registry,
        ),
    )
    for key, value in stack.summary().items():
        pulumi.export(key, value)
    return stack


def project_root() -> Path:
    """Returns the folder of ``Pulumi.yaml`` (the engine runs the program from ``main``)."""
    root = pulumi.get_root_directory()
    return Path(root) if root else Path.cwd()


def apply_program_settings() -> None:
    """Gives the rest of the process the settings of a program's own process.

    For a process that runs one Pulumi program (``pulumi up`` runs it in a process of its
    own), before its first resource: no automatic garbage collection
    (:func:`~mlops_infra.offline.collection.apply_synthesis_policy`), stack traces
    captured from frame objects
    (:func:`~mlops_infra.offline.stack_traces.install_fast_stack_traces`) and no
    reference cycle per check for unknown values
    (:func:`~mlops_infra.offline.unknowns.install_acyclic_unknowns`). Registrations are
    the same with or without them. Inside a program run offline it changes nothing.
    """
    apply_synthesis_policy()
    install_fast_stack_traces()
    install_acyclic_unknowns()


def main(registry: Registry | None = None) -> MlopsStack:
    """Runs the program for the current stack, with :func:`apply_program_settings`."""
    apply_program_settings()
    spec = read_spec(registry)
    return build_stack(
        spec, project_dir=project_root(), secrets=_read_secrets(spec), registry=registry
    )
