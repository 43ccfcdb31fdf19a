"""What Azure ML training jobs and pipeline steps share: the environment and the code package.

Both are content-addressed and immutable: an environment version is named by the hash of
its image and dependencies, a code version by the job's or pipeline's version. Replaced
versions are retained on delete (Pulumi forgets them, Azure keeps them), so a pinned,
older version can still be run and rolled back to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_azure_native.machinelearningservices as ml
from pulumi_azure_native import storage

from mlops_infra.backends.azure._naming import parse_blob_uri, unique_suffix
from mlops_infra.backends.azure._scope import AnyContext, AzureFoundationRef, WorkspaceHandle
from mlops_infra.backends.azure.options import AzureWorkloadOptions
from mlops_infra.errors import BackendError
from mlops_infra.specs import DataRef
from mlops_infra.versioning import VersionManifest, resolve_data_path

__all__ = [
    "RUNTIME_MODULES",
    "UploadedData",
    "asset_reference",
    "conda_file",
    "data_input_name",
    "environment_id",
    "retained",
    "step_command",
    "upload_code",
    "upload_data",
]


RUNTIME_MODULES = (
    "mlops_infra/runtime/__init__.py",
    "mlops_infra/runtime/context.py",
    "mlops_infra/runtime/step.py",
    "mlops_infra/backends/azure/container_entry.py",
)
"""Modules of this package shipped in every code asset: the step runtime and the Azure
entry point (standard library only; MLflow is imported when a step logs)."""

_PACKAGE_MARKERS = {
    "mlops_infra/__init__.py": '"""The mlops-infra step runtime, shipped with the package."""\n',
    "mlops_infra/backends/__init__.py": '"""Entry points of the shipped runtime."""\n',
    "mlops_infra/backends/azure/__init__.py": '"""The Azure ML entry point."""\n',
}
"""Package files of the shipped runtime: empty packages, so that importing the entry point
imports nothing of the library around it (Pulumi, pydantic, the cloud SDKs)."""


def runtime_files() -> dict[str, pulumi.Asset]:
    """The runtime slice of the code asset: path inside the asset → its content."""
    root = Path(__file__).resolve().parents[3]
    files: dict[str, pulumi.Asset] = {
        path: pulumi.StringAsset(text) for path, text in _PACKAGE_MARKERS.items()
    }
    files.update({path: pulumi.FileAsset(str(root / path)) for path in RUNTIME_MODULES})
    return files


def asset_reference(asset_id: str) -> str:
    """How a component spec names a code or environment version: ``azureml:<ARM id>``.

    Component specs take asset references, as ``azure-ai-ml`` serializes them; an ARM id
    gets the ``azureml:`` prefix, a reference (``azureml:...``, ``azureml://registries/...``)
    stays as it is.
    """
    return f"azureml:{asset_id}" if asset_id.startswith("/") else asset_id


def retained(
    ctx: AnyContext, depends_on: Sequence[pulumi.Resource] | None = None
) -> pulumi.ResourceOptions:
    """Options of an immutable, versioned asset: replaced versions stay in Azure."""
    return pulumi.ResourceOptions.merge(
        ctx.opts(depends_on=depends_on), pulumi.ResourceOptions(retain_on_delete=True)
    )


def conda_file(options: AzureWorkloadOptions, requirements: Sequence[str]) -> str:
    """The conda specification of the built environment (pip packages, then requirements)."""
    pip = [*options.pip_packages, *requirements]
    lines = [
        "name: mlops",
        "channels: [conda-forge]",
        "dependencies:",
        f"  - python={options.python_version}",
        "  - pip",
        "  - pip:",
        *(f"    - {json.dumps(package)}" for package in pip),
    ]
    return "\n".join(lines) + "\n"


def _requirements(source_dir: Path, manifest: VersionManifest) -> list[str]:
    """Requirement lines of the packaged components (their ``requirements.txt`` files)."""
    lines: list[str] = []
    for relative in sorted(manifest.code):
        if Path(relative).name != "requirements.txt":
            continue
        for line in (source_dir / relative).read_text(encoding="utf-8").splitlines():
            stripped = line.split("#", 1)[0].strip()
            if stripped and stripped not in lines:
                lines.append(stripped)
    return lines


def environment_id(
    ctx: AnyContext,
    options: AzureWorkloadOptions,
    *,
    workspace: WorkspaceHandle,
    image: str | None,
    role: str,
    source_dir: Path,
    manifest: VersionManifest,
) -> pulumi.Input[str]:
    """The environment a workload runs in: the spec's image, the option's, or a built one.

    A built environment (``options.base_image`` with ``options.pip_packages`` and the
    components' requirement files) is versioned by the hash of that content.
    """
    if image is None and options.environment is not None:
        return options.environment
    conda = None if image is not None else conda_file(options, _requirements(source_dir, manifest))
    base = image or options.base_image
    version = unique_suffix(base, conda, length=16)
    environment = ml.EnvironmentVersion(
        ctx.child_name(role),
        resource_group_name=workspace.resource_group_name,
        workspace_name=workspace.name,
        name=ctx.name,
        version=version,
        properties=ml.EnvironmentVersionPropertiesArgs(
            image=base,
            conda_file=conda,
            os_type=ml.OperatingSystemType.LINUX,
            description=f"mlops-infra environment of {ctx.name}",
            tags=ctx.tags(),
        ),
        opts=retained(ctx),
    )
    return environment.id


def upload_code(
    ctx: AnyContext,
    *,
    foundation: AzureFoundationRef,
    workspace: WorkspaceHandle,
    store_uri: pulumi.Input[str],
    prefix: str,
    manifest: VersionManifest,
    source_dir: Path,
) -> pulumi.Output[str]:
    """Uploads the package of ``manifest`` under ``<prefix>/`` and registers its code version.

    One ``storage.Blob`` per file (``<prefix>/code/<path>``), the runtime slice
    (:func:`runtime_files`: ``mlops_infra/...`` next to the components, so the step command
    ``python -m mlops_infra.backends.azure.container_entry`` runs from the code asset) and
    ``<prefix>/manifest.json``;
    an Azure ML code version named ``ctx.name`` at ``manifest.version`` points at
    ``<prefix>/code``. Returns the code version's ARM id.

    pulumi-azure-native uploads blobs with the storage account key, so the store must allow
    shared key access (``artifact_store.options.shared_key_access: true``) and be reachable
    from where ``pulumi up`` runs.
    """
    location = pulumi.Output.from_input(store_uri).apply(_blob_location)
    account = location.apply(lambda loc: loc[0])
    container = location.apply(lambda loc: loc[1])

    def upload(
        child: str, blob_name: str, source: pulumi.Asset, content_type: str = "text/plain"
    ) -> pulumi.Resource:
        return storage.Blob(
            ctx.child_name(child),
            resource_group_name=foundation.resource_group_name,
            account_name=account,
            container_name=container,
            blob_name=blob_name,
            source=source,
            content_type=content_type,
            type=storage.BlobType.BLOCK,
            metadata={"mlops-version": manifest.version},
            opts=retained(ctx),
        )

    blobs: list[pulumi.Resource] = []
    for relative in sorted(manifest.code):
        path = source_dir / relative
        if not path.is_file():
            msg = f"{ctx.name}: {path} is part of version {manifest.version} but is missing"
            raise BackendError(msg)
        blobs.append(
            upload(f"package/{relative}", f"{prefix}/code/{relative}", pulumi.FileAsset(str(path)))
        )
    for relative, asset in runtime_files().items():
        blobs.append(upload(f"runtime/{relative}", f"{prefix}/code/{relative}", asset))
    manifest_text = json.dumps(manifest.as_dict(), indent=2, sort_keys=True)
    blobs.append(
        upload(
            "package/manifest.json",
            f"{prefix}/manifest.json",
            pulumi.StringAsset(manifest_text),
            "application/json",
        )
    )
    code = ml.CodeVersion(
        ctx.child_name("code"),
        resource_group_name=workspace.resource_group_name,
        workspace_name=workspace.name,
        name=ctx.name,
        version=manifest.version,
        properties=ml.CodeVersionPropertiesArgs(
            code_uri=pulumi.Output.from_input(store_uri).apply(lambda u: f"{u}/{prefix}/code"),
            description=f"mlops-infra package {manifest.name} {manifest.version}",
            tags=ctx.tags({"mlops-version": manifest.version}),
        ),
        opts=retained(ctx, blobs),
    )
    return code.id


def _blob_location(uri: str) -> tuple[str, str]:
    location = parse_blob_uri(uri)
    if location is None:
        msg = f"Azure ML packages are uploaded to an Azure Blob store; got store {uri!r}"
        raise BackendError(msg)
    return location.account_name, location.container_name


def data_input_name(name: str) -> str:
    """The job input carrying dataset ``name`` (input names are identifiers)."""
    return "data_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


@dataclass
class UploadedData:
    """Datasets of a job or pipeline, as Azure ML sees them.

    Attributes:
        inputs: Job input name → its input (uploaded local data, mounted read-only).
        names: Dataset name → its job input name.
        remote: Dataset name → URI of remote data (versioned by the spec), passed as is.
    """

    inputs: dict[str, ml.UriFileJobInputArgs | ml.UriFolderJobInputArgs] = field(
        default_factory=dict[str, ml.UriFileJobInputArgs | ml.UriFolderJobInputArgs]
    )
    names: dict[str, str] = field(default_factory=dict[str, str])
    remote: dict[str, str] = field(default_factory=dict[str, str])


def upload_data(
    ctx: AnyContext,
    *,
    foundation: AzureFoundationRef,
    store_uri: pulumi.Input[str],
    prefix: str,
    refs: Mapping[str, DataRef],
    project_dir: Path,
    upload: bool = True,
) -> UploadedData:
    """Uploads local datasets under ``<prefix>/data/<name>/`` and returns their job inputs.

    Local data (paths, ``file://``, ``pkg://``) is content-hashed into the version, so the
    upload is as immutable as the code. Remote data keeps its URI (it names its version).
    With ``upload`` off (a pinned, already published version) only the inputs are returned.
    """
    uploaded = UploadedData()
    location = pulumi.Output.from_input(store_uri).apply(_blob_location)
    account = location.apply(lambda loc: loc[0])
    container = location.apply(lambda loc: loc[1])
    for name, ref in sorted(refs.items()):
        if not ref.is_local:
            uploaded.remote[name] = ref.uri
            continue
        path = resolve_data_path(ref, project_dir)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files if upload else []:
            relative = file.relative_to(path).as_posix() if path.is_dir() else file.name
            storage.Blob(
                ctx.child_name(f"data/{name}/{relative}"),
                resource_group_name=foundation.resource_group_name,
                account_name=account,
                container_name=container,
                blob_name=f"{prefix}/data/{name}/{relative}",
                source=pulumi.FileAsset(str(file)),
                type=storage.BlobType.BLOCK,
                opts=retained(ctx),
            )
        input_name = data_input_name(name)
        uploaded.names[name] = input_name
        if path.is_dir():
            uploaded.inputs[input_name] = ml.UriFolderJobInputArgs(
                job_input_type="uri_folder",
                uri=pulumi.Output.from_input(store_uri).apply(
                    lambda u, n=name: f"{u}/{prefix}/data/{n}"
                ),
                mode=ml.InputDeliveryMode.READ_ONLY_MOUNT,
            )
        else:
            uploaded.inputs[input_name] = ml.UriFileJobInputArgs(
                job_input_type="uri_file",
                uri=pulumi.Output.from_input(store_uri).apply(
                    lambda u, n=name, f=path.name: f"{u}/{prefix}/data/{n}/{f}"
                ),
                mode=ml.InputDeliveryMode.READ_ONLY_MOUNT,
            )
    return uploaded


def step_command(
    component: str,
    context: str,
    inputs: Sequence[str],
    *,
    data: Mapping[str, str] | None = None,
    output: bool,
) -> str:
    """The command of a job or step: the runtime entry point with its context.

    ``inputs`` are the upstream steps whose outputs this step reads; ``data`` maps dataset
    names to the job inputs carrying them.
    """
    parts = [
        "python -m mlops_infra.backends.azure.container_entry",
        f"--component {component}",
        f"--context {context}",
        *(f"--input {name}=${{{{inputs.{name}}}}}" for name in inputs),
        *(f"--data {name}=${{{{inputs.{key}}}}}" for name, key in (data or {}).items()),
    ]
    if output:
        parts.append("--output ${{outputs.output}}")
    return " ".join(parts)
