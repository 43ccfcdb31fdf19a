"""A random secret generated once at ``pulumi up`` and kept (encrypted) in the stack state.

``pulumi_random`` is not a dependency of this package, so this small dynamic resource plays
its ``RandomPassword``: the value is drawn on create, never changes afterwards (unless
``length`` does), and is a Pulumi secret. Its own module, importing no ``pulumi_aws``: the
dynamic-provider process unpickles the provider by importing this module, and stays free of
the SDK's import time (the Secrets Manager helpers are in :mod:`._secrets`).
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

__all__ = ["GeneratedSecret"]


# Any: pulumi.dynamic passes properties as untyped dicts.
class _GeneratedSecretProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        import secrets  # noqa: PLC0415 - the provider runs in its own process

        length = int(props["length"])
        return CreateResult(
            id_=f"generated-{length}",
            outs={"length": length, "value": secrets.token_urlsafe(length)},
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = int(olds.get("length", 0)) != int(news["length"])
        return DiffResult(changes=changed, replaces=["length"] if changed else [])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class GeneratedSecret(Resource, module="mlops", name="AwsGeneratedSecret"):
    """A URL-safe random secret of ``length`` bytes of entropy, stable across updates."""

    value: pulumi.Output[str]
    """The secret (a Pulumi secret)."""

    def __init__(self, name: str, length: int, opts: pulumi.ResourceOptions | None = None) -> None:
        """Declares the secret ``name``."""
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["value"])
        )
        super().__init__(
            _GeneratedSecretProvider(), name, {"length": length, "value": None}, options
        )
