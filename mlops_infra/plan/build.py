"""Build a plan: run the stack's program offline, under mocks, and record it masked.

The program is the one ``pulumi up`` runs (:func:`~mlops_infra.program.build_stack`), so
a plan shows exactly what a deployment would register. Facts and the ML summary are read
from what the components registered, so :func:`plan_program` plans a program composed by
hand the same way. Secret config values are never
decrypted: each ``secure:`` entry the spec names is handed to the program as a secret
placeholder, and its ciphertext only contributes a fingerprint.
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from mlops_infra.errors import SpecIssue, SpecValidationError
from mlops_infra.offline import Registration, run_offline
from mlops_infra.plan.facts import StackFacts
from mlops_infra.plan.ml import ml_summary
from mlops_infra.plan.mocks import PlanMocks
from mlops_infra.plan.model import Plan, PlannedResource
from mlops_infra.plan.normalize import Normalizer
from mlops_infra.plan.outputs import masked_outputs
from mlops_infra.program import build_stack, secret_keys
from mlops_infra.registry import Registry
from mlops_infra.resources import MlopsStack
from mlops_infra.specs import StackSpec
from mlops_infra.specs.loading import CONFIG_NAMESPACE, load_stack_file, read_stack_file

__all__ = [
    "DEFAULT_PROJECT",
    "StackSource",
    "plan_program",
    "plan_stack",
    "plan_stack_file",
    "project_name",
    "read_stack_source",
    "stack_file_path",
]

DEFAULT_PROJECT = "mlops"
"""Project name when ``Pulumi.yaml`` does not say."""


@dataclass(frozen=True)
class StackSource:
    """A stack file read for planning.

    Attributes:
        stack: Stack name (``Pulumi.<stack>.yaml``).
        path: The file.
        spec: Its validated spec.
        config: Its plain (not encrypted) config values, by full key.
        secure: Encrypted config values, by full key (ciphertext; never decrypted).
    """

    stack: str
    path: Path
    spec: StackSpec
    config: Mapping[str, Any] = field(default_factory=dict[str, Any])
    secure: Mapping[str, str] = field(default_factory=dict[str, str])


def _project_file(project_dir: Path) -> dict[str, Any]:
    path = project_dir / "Pulumi.yaml"
    if not path.is_file():
        return {}
    document: object = yaml.safe_load(path.read_text(encoding="utf-8"))
    return typing.cast(dict[str, Any], document) if isinstance(document, dict) else {}


def project_name(project_dir: Path) -> str:
    """Returns the project name from ``Pulumi.yaml`` (``mlops`` when absent)."""
    name: object = _project_file(project_dir).get("name")
    return name if isinstance(name, str) and name else DEFAULT_PROJECT


def stack_file_path(project_dir: Path, stack: str) -> Path:
    """Returns ``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir``."""
    config_dir: object = _project_file(project_dir).get("stackConfigDir")
    folder = project_dir / config_dir if isinstance(config_dir, str) and config_dir else project_dir
    return folder / f"Pulumi.{stack}.yaml"


def _stack_name(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith(".yaml"):
        return name[len("Pulumi.") : -len(".yaml")]
    return path.stem


def _full_key(key: str) -> str:
    return key if ":" in key else f"{CONFIG_NAMESPACE}:{key}"


def read_stack_source(
    path: Path, *, stack: str | None = None, registry: Registry | None = None
) -> StackSource:
    """Reads and validates a stack file for planning.

    Raises:
        SpecValidationError: the file or its spec is invalid (every problem listed).
    """
    spec = load_stack_file(path, registry=registry)
    raw = read_stack_file(path)
    plain: dict[str, Any] = {}
    secure: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "secure" in value:
            secure[key] = str(typing.cast(dict[str, Any], value)["secure"])
        else:
            plain[key] = value
    return StackSource(
        stack=stack or _stack_name(path), path=path, spec=spec, config=plain, secure=secure
    )


def _fingerprint(ciphertext: str) -> str:
    return "sha256:" + hashlib.sha256(ciphertext.encode("utf-8")).hexdigest()[:16]


def _resource(registration: Registration, normalizer: Normalizer) -> PlannedResource:
    return PlannedResource(
        urn=registration.urn,
        type=registration.type,
        name=registration.name,
        parent=registration.parent,
        custom=registration.custom,
        inputs=normalizer.inputs(registration),
        protect=registration.protect,
        retain_on_delete=registration.retain_on_delete,
        replace_on_changes=tuple(sorted(registration.replace_on_changes)),
        ignore_changes=tuple(sorted(registration.ignore_changes)),
        delete_before_replace=registration.delete_before_replace,
        additional_secret_outputs=tuple(sorted(registration.additional_secret_outputs)),
        depends_on=tuple(sorted(set(registration.depends_on))),
    )


def plan_stack(
    spec: StackSpec,
    *,
    stack: str,
    project_dir: Path,
    project: str = DEFAULT_PROJECT,
    registry: Registry | None = None,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    secret_fingerprints: Mapping[str, str] | None = None,
) -> Plan:
    """Plans ``spec`` offline and returns the masked, normalized plan.

    Args:
        spec: The stack spec.
        stack: Stack name (part of every URN).
        project_dir: Project root (component code, data and ``Pulumi.yaml``).
        project: Project name (part of every URN).
        registry: Backend registry; default: the installed backends.
        config: Plain config values, by full key (``aws:region``), for backends that read them.
        secrets: Secret config values the spec names, by key as written in the spec.
            Every key the spec names gets a placeholder when not given here. Values given
            are masked wherever they would appear.
        secret_fingerprints: Fingerprints of the secret values, by full key, for the diff.

    Raises:
        MlopsError: the program failed (invalid spec, missing component code, backend error).
    """
    project_dir = project_dir.resolve()
    given = dict(secrets or {})
    program_secrets = {key: given.get(key, f"<secret {key}>") for key in secret_keys(spec)}
    program_secrets.update(given)
    config_values = dict(config or {})
    for key, value in program_secrets.items():
        config_values[_full_key(key)] = value
    holder: dict[str, MlopsStack] = {}

    def program() -> None:
        holder["stack"] = build_stack(
            spec,
            project_dir=project_dir,
            secrets={k: pulumi.Output.secret(v) for k, v in program_secrets.items()},
            registry=registry,
        )

    return plan_program(
        program,
        stack=stack,
        project_dir=project_dir,
        project=project,
        mocks=PlanMocks(region=spec.region, clouds=[spec.cloud], registry=registry),
        config=config_values,
        secret_keys=tuple(_full_key(k) for k in program_secrets),
        secret_values=tuple(given.values()),
        outputs=lambda: holder["stack"].summary(),  # noqa: PLW0108 - built when it runs
        secret_config={
            _full_key(key): (secret_fingerprints or {}).get(_full_key(key), "set")
            for key in sorted(program_secrets)
        },
    )


def plan_program(
    program: Callable[[], None],
    *,
    stack: str,
    project_dir: Path,
    project: str = DEFAULT_PROJECT,
    mocks: pulumi.runtime.Mocks | None = None,
    config: Mapping[str, Any] | None = None,
    secret_keys: tuple[str, ...] = (),
    secret_values: tuple[str, ...] = (),
    outputs: Callable[[], Mapping[str, Any]] | None = None,
    secret_config: Mapping[str, str] | None = None,
) -> Plan:
    """Plans any Pulumi program offline (e.g. components composed by hand).

    The facts and the ML summary are read from the ``mlops:index:*`` components the
    program registered: each is judged by the effective spec it built from.

    Args:
        program: The program; it builds resources.
        stack: Stack name (part of every URN).
        project_dir: Project root (component code and data).
        project: Project name (part of every URN).
        mocks: Plan mocks; default: those of the local cloud.
        config: Config values by full key.
        secret_keys: Full keys of the config values that are secret.
        secret_values: Secret values to mask wherever they would appear.
        outputs: Returns the stack outputs once the program ran; default: none.
        secret_config: What the plan records of each secret config key (fingerprints).

    Raises:
        MlopsError: the program failed.
    """
    project_dir = project_dir.resolve()
    run = run_offline(
        program,
        project=project,
        stack=stack,
        config=dict(config or {}),
        secret_keys=secret_keys,
        mocks=mocks or PlanMocks(),
    )
    normalizer = Normalizer(project_dir=project_dir, secret_values=secret_values)
    published: dict[str, Any] = normalizer.value(masked_outputs(outputs() if outputs else {}))
    registered = [_resource(r, normalizer) for r in run.registrations]
    facts = StackFacts.from_components(registered) or StackFacts()
    ml: dict[str, Any] = normalizer.value(ml_summary(registered, project_dir, published))
    return Plan(
        project=project,
        stack=stack,
        facts=facts,
        resources=tuple(sorted(registered, key=lambda r: r.urn)),
        ml=ml,
        outputs=published,
        secret_config=dict(secret_config or {}),
    )


def plan_stack_file(
    path: Path,
    *,
    project_dir: Path | None = None,
    stack: str | None = None,
    registry: Registry | None = None,
) -> Plan:
    """Plans the stack of a ``Pulumi.<stack>.yaml`` file.

    Args:
        path: The stack file.
        project_dir: Project root; default: the folder holding ``Pulumi.yaml`` above ``path``.
        stack: Stack name; default: from the file name.
        registry: Backend registry; default: the installed backends.

    Raises:
        MlopsError: the file is invalid or the program failed.
    """
    source = read_stack_source(path, stack=stack, registry=registry)
    root = (project_dir or _find_project_dir(path)).resolve()
    return plan_stack(
        source.spec,
        stack=source.stack,
        project_dir=root,
        project=project_name(root),
        registry=registry,
        config=source.config,
        secret_fingerprints={key: _fingerprint(value) for key, value in source.secure.items()},
    )


def _find_project_dir(path: Path) -> Path:
    for folder in path.resolve().parents:
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise SpecValidationError(
        [SpecIssue("", "no Pulumi.yaml above the stack file; pass the project folder")],
        str(path),
    )
