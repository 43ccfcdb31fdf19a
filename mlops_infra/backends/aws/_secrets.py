"""Secrets Manager secrets with write-only values: the value never lands in provider state.

``secret_string_wo`` is sent to AWS and not stored; ``secret_string_wo_version`` (a hash of
the value, itself kept as a Pulumi secret) makes a changed value a new secret version.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pulumi

from mlops_infra.backends.aws._iam import ArgsT, Statement, kms_use, statement
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.resources import BuildContext, TrackingRef

if TYPE_CHECKING:
    from pulumi_aws import secretsmanager

__all__ = ["tracking_credentials", "write_only_secret"]


def _version(value: str | None) -> int:
    digest = hashlib.sha256((value or "").encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2_000_000_000 + 1


def write_only_secret(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    role: str,
    value: pulumi.Input[str],
    *,
    key_arn: pulumi.Input[str | None],
    description: str,
    stateful: bool = False,
) -> secretsmanager.Secret:
    """A secret ``<component>-<role>`` holding ``value`` as a write-only secret string."""
    from pulumi_aws import secretsmanager  # noqa: PLC0415 - only stacks with secrets load it

    secret = secretsmanager.Secret(
        ctx.child_name(role),
        description=description,
        kms_key_id=key_arn,
        recovery_window_in_days=ctx.target.secrets.recovery_window_days,
        tags=ctx.tags(),
        opts=ctx.opts(stateful=stateful),
        region=scope.region_override,
    )
    secret_value = pulumi.Output.secret(value)
    secretsmanager.SecretVersion(
        ctx.child_name(f"{role}-value"),
        secret_id=secret.id,
        secret_string_wo=secret_value,
        secret_string_wo_version=secret_value.apply(_version),
        opts=ctx.opts(),
        region=scope.region_override,
    )
    return secret


def tracking_credentials(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    tracking: TrackingRef,
    key_arn: pulumi.Input[str | None],
) -> tuple[pulumi.Output[str] | None, list[Statement]]:
    """The workload's own copy of the tracking password, when the server uses basic auth.

    Returns the secret's ARN (for ``MLOPS_TRACKING_PASSWORD_SECRET``) and the statements
    that let the workload read it; ``(None, [])`` for servers with IAM auth. The password
    never appears in job definitions, pipeline definitions or environment variables.
    """
    if tracking.password is None:
        return None, []
    secret = write_only_secret(
        ctx,
        scope,
        "tracking-password",
        pulumi.Output.from_input(tracking.password).apply(lambda p: p or ""),
        key_arn=key_arn,
        description=f"MLflow password for {ctx.name}",
    )
    statements = [
        statement(["secretsmanager:GetSecretValue"], [secret.arn], sid="ReadTrackingPassword"),
        *kms_use([key_arn], sid="DecryptTrackingPassword"),
    ]
    return secret.arn, statements
