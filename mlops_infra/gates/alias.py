"""``ModelAlias``: the registry alias follows the deployment, never leads it.

The gate decides which version *should* be served; the serving backend deploys it and
reports the version its cloud confirms is live. Only then does this resource point the
registry alias (the champion the next gate compares against) at that version, so a
failed or rolled-back deployment leaves the alias on the version actually served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["AliasInputs", "ModelAlias"]

_INPUTS = ("model", "alias", "version", "tracking_url", "username", "client_auth")


def _point(props: dict[str, Any]) -> dict[str, Any]:
    from mlops_infra.gates.registry_client import RegistryClient  # noqa: PLC0415 - provider side

    version = props.get("version")
    if version:
        registry = RegistryClient.of(props)
        if registry.alias_version(props["model"], props["alias"]) != str(version):
            registry.promote(props["model"], props["alias"], str(version))
    return {k: v for k, v in props.items() if not k.startswith("__")}


class _AliasProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"alias-{props['model']}-{props['alias']}", outs=_point(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = [key for key in _INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changes), replaces=[])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        del olds
        return UpdateResult(outs=_point(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # The registry outlives the stack: an alias left behind still names a real version.
        del props


@dataclass(frozen=True, kw_only=True)
class AliasInputs:
    """Where the alias lives and which version it should name.

    Attributes:
        model: Registered model.
        alias: The alias (the champion's name, e.g. ``champion``).
        version: Version the deployment confirms it serves; ``None`` leaves the alias alone.
        tracking_url: Tracking/registry URI.
        username: Basic-auth user, if any.
        password: Basic-auth password (secret), if any.
        client_auth: Auth hook for MLflow clients (see ``TrackingRef.client_auth``), if any.
    """

    model: str
    alias: str
    version: pulumi.Input[str | None]
    tracking_url: pulumi.Input[str]
    username: pulumi.Input[str | None] = None
    password: pulumi.Input[str | None] = None
    client_auth: pulumi.Input[str | None] = None


class ModelAlias(Resource, module="mlops", name="ModelAlias"):
    """Points a registry alias at the version a deployment confirmed it serves."""

    version: pulumi.Output[str | None]
    """Version the alias names after this ``up`` (``None``: left as it was)."""

    def __init__(
        self, name: str, inputs: AliasInputs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the alias ``name``."""
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        props: dict[str, Any] = {
            "model": inputs.model,
            "alias": inputs.alias,
            "version": inputs.version,
            "tracking_url": inputs.tracking_url,
            "username": inputs.username,
            "password": inputs.password,
            "client_auth": inputs.client_auth,
        }
        super().__init__(_AliasProvider(), name, props, options)
