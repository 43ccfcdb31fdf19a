"""Secrets: generated once, kept in Secret Manager (CMEK, regional replica), read by one identity.

``pulumi_random`` is not a dependency, so a generated password is a small dynamic
resource: created once, kept (as a Pulumi secret) in the state, never regenerated
unless its ``keeper`` changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider
from pulumi_gcp import secretmanager, serviceaccount

from mlops_infra.backends.gcp._naming import gcp_labels, physical_name
from mlops_infra.backends.gcp._scope import AnyContext, project_id

__all__ = ["GeneratedPassword", "StoredSecret", "store_secret"]

_SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"  # noqa: S105 - a role name


class _PasswordProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        import secrets  # noqa: PLC0415 - provider side; keeps the pickled provider small

        value = secrets.token_urlsafe(int(props["length"]))
        return CreateResult(
            id_=f"password-{props['keeper']}",
            outs={"length": props["length"], "keeper": props["keeper"], "value": value},
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("length", "keeper") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})


class GeneratedPassword(Resource, module="mlops", name="GcpGeneratedPassword"):
    """A random URL-safe password, generated at create and kept in the (encrypted) state."""

    value: pulumi.Output[str]
    """The password (a Pulumi secret)."""

    def __init__(self, name: str, length: int, opts: pulumi.ResourceOptions | None = None) -> None:
        """Declares the password ``name`` of ``length`` random bytes (URL-safe encoded)."""
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["value"])
        )
        props = {"length": length, "keeper": name, "value": None}
        super().__init__(_PasswordProvider(), name, props, options)


class StoredSecret:
    """A Secret Manager secret with one version, as the workloads reference it.

    Attributes:
        secret: The secret resource.
        version: Its version holding the value.
        grants: The readers' access bindings (a consumer should wait for them).
    """

    def __init__(
        self,
        secret: secretmanager.Secret,
        version: secretmanager.SecretVersion,
        grants: list[secretmanager.SecretIamMember],
    ) -> None:
        """Wraps ``secret``, its ``version`` and the readers' ``grants``."""
        self.secret = secret
        self.version = version
        self.grants = grants

    @property
    def resources(self) -> list[pulumi.Resource]:
        """The version and the grants: what a consumer depends on before reading it."""
        return [self.version, *self.grants]

    @property
    def secret_id(self) -> pulumi.Output[str]:
        """The secret's short id (what Cloud Run's ``secret_key_ref.secret`` takes)."""
        return self.secret.secret_id

    @property
    def version_name(self) -> pulumi.Output[str]:
        """Full resource name of the version (``projects/.../secrets/.../versions/N``)."""
        return self.version.name


def store_secret(
    ctx: AnyContext,
    role: str,
    value: pulumi.Input[str],
    *,
    region: str,
    encryption_key: pulumi.Input[str | None] | None,
    readers: Mapping[str, serviceaccount.Account],
) -> StoredSecret:
    """Keeps ``value`` in a new secret ``<name>-<role>`` readable by ``readers`` only.

    The secret has one user-managed replica in ``region``, encrypted with
    ``encryption_key`` when one is given (a key in the same region). Deleted versions
    stay recoverable for ``secrets.recovery_window_days`` (delayed destruction).
    ``readers`` maps a short label (part of the binding's name) to an identity. The secret
    is stateful: protected and retained where the stack protects its data.
    """
    replica: secretmanager.SecretReplicationUserManagedReplicaArgs
    if encryption_key is None:
        replica = secretmanager.SecretReplicationUserManagedReplicaArgs(location=region)
    else:
        replica = secretmanager.SecretReplicationUserManagedReplicaArgs(
            location=region,
            customer_managed_encryption=(
                secretmanager.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                    # Known to be a key at program time (None was handled above).
                    kms_key_name=cast(pulumi.Input[str], encryption_key)
                )
            ),
        )
    window_s = ctx.target.secrets.recovery_window_days * 86400
    secret = secretmanager.Secret(
        ctx.child_name(role),
        # Secret ids are unique per project: the stack salts them.
        secret_id=physical_name(ctx.child_name(role), max_length=255, salt=ctx.stack_name),
        project=project_id(),
        replication=secretmanager.SecretReplicationArgs(
            user_managed=secretmanager.SecretReplicationUserManagedArgs(replicas=[replica])
        ),
        version_destroy_ttl=f"{window_s}s",
        labels=gcp_labels(ctx.tags()),
        # Holds data (a password, the database URI): protected like the database.
        opts=ctx.opts(stateful=True),
    )
    version = secretmanager.SecretVersion(
        ctx.child_name(f"{role}-value"),
        secret=secret.id,
        secret_data=pulumi.Output.secret(value),
        opts=ctx.opts(),
    )
    grants = [
        secretmanager.SecretIamMember(
            ctx.child_name(f"{role}-reader-{label}"),
            secret_id=secret.id,
            role=_SECRET_ACCESSOR,
            member=reader.member,
            opts=ctx.opts(),
        )
        for label, reader in readers.items()
    ]
    return StoredSecret(secret, version, grants)
