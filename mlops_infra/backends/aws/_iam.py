"""Least-privilege IAM: policy documents as data, one role per workload, checked as built.

Policy documents are Python dicts serialized with ``pulumi.Output.json_dumps`` (never the
``get_policy_document`` invoke, which answers ``{}`` under mocks), so tests and policies
can parse every document the backend generates. :func:`policy_json` refuses, at program
time, a wildcard action (``*``, ``s3:*``) and a ``"Resource": "*"`` statement unless every
action in it is one AWS cannot scope to a resource (:data:`UNSCOPABLE_ACTIONS`).

``Any`` appears only where documents are JSON (values mixing plain data and Outputs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
from pulumi_aws import iam

from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws.iam_actions import UNSCOPABLE_ACTIONS
from mlops_infra.errors import BackendError
from mlops_infra.outputs import concat
from mlops_infra.resources import BuildContext

__all__ = [
    "UNSCOPABLE_ACTIONS",
    "ArgsT",
    "ServiceRole",
    "Statement",
    "check_document",
    "ecr_pull",
    "ecr_repository_arn",
    "kms_grant",
    "kms_use",
    "logs_write",
    "policy_json",
    "repository_of",
    "s3_read",
    "s3_write",
    "service_role",
    "statement",
]

# Any: a statement is JSON whose values mix plain data and Pulumi Outputs.
Statement = dict[str, Any]
"""One IAM policy statement as JSON-ready data (values may be Pulumi Outputs)."""

ArgsT = TypeVar("ArgsT")
"""The args type of whichever component a helper builds children for."""


_SERVICE_WIDE = ":*"


def statement(
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]],
    *,
    sid: str | None = None,
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    """An ``Allow`` statement for ``actions`` on ``resources`` (optionally conditioned)."""
    result: Statement = {"Effect": "Allow", "Action": sorted(set(actions))}
    if sid:
        result["Sid"] = sid
    result["Resource"] = list(resources)
    if conditions:
        result["Condition"] = {k: dict(v) for k, v in conditions.items()}
    return result


def check_document(document: Mapping[str, Any]) -> list[str]:
    """Returns what is wrong with a policy document; empty when it is least-privilege.

    Flags any ``*`` or ``service:*`` action, and any ``"Resource": "*"`` statement holding
    an action that is not in :data:`UNSCOPABLE_ACTIONS`.
    """
    problems: list[str] = []
    # Any: a parsed document is untyped JSON.
    raw: Any = document.get("Statement", [])
    statements: list[Any] = raw if isinstance(raw, list) else [raw]  # pyright: ignore[reportUnknownVariableType]
    for index, item in enumerate(statements):
        if not isinstance(item, dict):
            problems.append(f"statement {index} is not an object")
            continue
        body: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
        if body.get("Effect") != "Allow":
            continue
        actions = _as_strings(body.get("Action"))
        resources = _as_strings(body.get("Resource"))
        for action in actions:
            if action == "*" or action.endswith(_SERVICE_WIDE):
                problems.append(f"statement {index}: wildcard action {action!r}")
        if "NotAction" in body or "NotResource" in body:
            problems.append(f"statement {index}: NotAction/NotResource grant too much")
        if "*" in resources:
            unscopable = [a for a in actions if a not in UNSCOPABLE_ACTIONS]
            if unscopable:
                problems.append(
                    f'statement {index}: "Resource": "*" for scopable actions {unscopable}'
                )
    return problems


def _as_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]  # pyright: ignore[reportUnknownVariableType]
    return []


def policy_json(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """Serializes ``statements`` as a policy document, after checking them.

    Raises:
        BackendError: a statement grants a wildcard action, or ``"Resource": "*"`` for an
            action AWS can scope (a bug in the backend, caught before anything is created).
    """
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    problems = check_document(document)
    if problems:
        msg = "IAM policy is not least-privilege: " + "; ".join(problems)
        raise BackendError(msg)
    return pulumi.Output.json_dumps(document).apply(_drop_empty_statements)


def _drop_empty_statements(text: str) -> str:
    document: dict[str, Any] = json.loads(text)
    document["Statement"] = [s for s in document["Statement"] if s.get("Resource") != []]
    return json.dumps(document)


def trust_policy(service: str, scope: AwsScope) -> pulumi.Output[str]:
    """Lets ``service`` assume the role, only on behalf of this account (confused deputy)."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": scope.account_id}},
                }
            ],
        }
    )


@dataclass(frozen=True)
class ServiceRole:
    """A workload's role and its inline policy.

    Attributes:
        role: The role (pass ``role.arn`` to the service).
        policy: Its permissions (``depends_on`` it where they are needed at creation).
    """

    role: iam.Role
    policy: iam.RolePolicy

    @property
    def arn(self) -> pulumi.Output[str]:
        """The role's ARN."""
        return self.role.arn


def service_role(
    ctx: BuildContext[ArgsT],
    role: str,
    service: str,
    scope: AwsScope,
    statements: Sequence[Statement],
    *,
    description: str,
    source_account_condition: bool = True,
    pass_self_to: str | None = None,
) -> ServiceRole:
    """A role for one workload, assumable by ``service``, with one inline policy.

    The role is ``<component>-<role>``; its policy ``<component>-<role>-policy`` is a
    separate resource, so it may name resources created after the role. Resources that
    need the permissions at creation depend on :attr:`ServiceRole.policy`. With
    ``pass_self_to``, the role may pass itself (only itself, only to that service): a
    pipeline hands its role to the jobs of its steps.
    """
    identity = ctx.target.identity
    assume = (
        trust_policy(service, scope)
        if source_account_condition
        else pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
    )
    created = iam.Role(
        ctx.child_name(role),
        assume_role_policy=assume,
        description=description,
        permissions_boundary=identity.permissions_boundary,
        name_prefix=(
            physical_name(identity.name_prefix, role, max_length=37) + "-"
            if identity.name_prefix
            else None
        ),
        max_session_duration=3600,
        tags=ctx.tags({"mlops-role": role}),
        opts=ctx.opts(),
    )
    granted = list(statements)
    if pass_self_to:
        granted.append(
            statement(
                ["iam:PassRole"],
                [created.arn],
                sid="PassOwnRole",
                conditions={"StringEquals": {"iam:PassedToService": pass_self_to}},
            )
        )
    policy = iam.RolePolicy(
        ctx.child_name(f"{role}-policy"),
        role=created.id,
        policy=policy_json(granted),
        opts=ctx.opts(),
    )
    return ServiceRole(role=created, policy=policy)


def s3_read(
    bucket_arn: pulumi.Input[str],
    prefixes: Sequence[pulumi.Input[str]],
    *,
    sid: str = "ReadStore",
) -> list[Statement]:
    """Read objects under ``prefixes`` (``pipelines/x/``) and list only those prefixes."""
    return [
        statement(
            ["s3:GetObject", "s3:GetObjectVersion"],
            [concat(bucket_arn, "/", p, "*") for p in prefixes],
            sid=f"{sid}Objects",
        ),
        statement(
            ["s3:ListBucket"],
            [bucket_arn],
            sid=f"{sid}List",
            conditions={"StringLike": {"s3:prefix": [concat(p, "*") for p in prefixes]}},
        ),
    ]


def s3_write(
    bucket_arn: pulumi.Input[str],
    prefixes: Sequence[pulumi.Input[str]],
    *,
    sid: str = "WriteStore",
) -> list[Statement]:
    """Read, write and delete objects under ``prefixes`` (no bucket-level changes)."""
    return [
        statement(
            [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
            ],
            [concat(bucket_arn, "/", p, "*") for p in prefixes],
            sid=f"{sid}Objects",
        ),
        statement(
            ["s3:ListBucket"],
            [bucket_arn],
            sid=f"{sid}List",
            conditions={"StringLike": {"s3:prefix": [concat(p, "*") for p in prefixes]}},
        ),
        statement(["s3:GetBucketLocation"], [bucket_arn], sid=f"{sid}Location"),
    ]


def kms_use(keys: Sequence[pulumi.Input[str | None]], *, sid: str = "UseKey") -> list[Statement]:
    """Encrypt and decrypt data keys with the stack's keys (S3 SSE-KMS, volumes, secrets).

    Keys that resolve to ``None`` (an adopted store without a customer-managed key) are
    dropped; a statement left without resources is dropped by :func:`policy_json`.
    """
    if not keys:
        return []
    resources = pulumi.Output.all(*keys).apply(lambda ks: sorted({k for k in ks if k}))
    result = statement(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [], sid=sid)
    result["Resource"] = resources
    return [result]


def kms_grant(keys: Sequence[pulumi.Input[str | None]]) -> list[Statement]:
    """Let SageMaker create grants on the keys for the volumes it attaches.

    Only grants for AWS resources (``kms:GrantIsForAWSResource``), as ``VolumeKmsKeyId``
    requires.
    """
    if not keys:
        return []
    grant = statement(
        ["kms:CreateGrant"],
        [],
        sid="GrantVolumeKey",
        conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
    )
    grant["Resource"] = pulumi.Output.all(*keys).apply(lambda ks: sorted({k for k in ks if k}))
    return [grant]


def repository_of(image: str, partition: str) -> str | None:
    """The ECR repository ARN of an image in an ECR registry (``None`` for other registries)."""
    host, _, rest = image.partition("/")
    parts = host.split(".")
    if len(parts) < 6 or parts[1:3] != ["dkr", "ecr"] or not rest:
        return None
    account, region = parts[0], parts[3]
    repository = rest.split("@", 1)[0]
    if ":" in repository:
        repository = repository.rsplit(":", 1)[0]
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"


def ecr_repository_arn(image: pulumi.Input[str], scope: AwsScope) -> pulumi.Output[str | None]:
    """The ECR repository ARN of ``image``, or ``None`` when it is not in ECR."""
    return pulumi.Output.all(image, scope.partition).apply(
        lambda values: repository_of(str(values[0]), str(values[1]))
    )


def ecr_pull(repositories: Sequence[pulumi.Input[str | None]]) -> list[Statement]:
    """Pull images from the ECR ``repositories`` (``None`` entries are ignored)."""
    if not repositories:
        return []
    pull = statement(
        ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        [],
        sid="PullImages",
    )
    pull["Resource"] = pulumi.Output.all(*repositories).apply(
        lambda arns: sorted({a for a in arns if a})
    )
    return [pull, statement(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin")]


def logs_write(log_group_arns: Sequence[pulumi.Input[str]]) -> list[Statement]:
    """Write log events to ``log_group_arns`` (``...:log-group:NAME``) and their streams."""
    return [
        statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
             "logs:DescribeLogStreams"],
            [concat(arn, ":*") for arn in log_group_arns]
            + list(log_group_arns),
            sid="WriteLogs",
        )
    ]  # fmt: skip
