"""Project custom roles: exactly the permissions an identity calls, where no resource grant exists.

Some calls can only be granted on the project (Vertex AI custom jobs, Workflows executions:
the lowest level of their predefined roles is the project,
https://cloud.google.com/iam/docs/roles-permissions/aiplatform and
https://cloud.google.com/iam/docs/roles-permissions/workflows). Rather than a predefined
role full of other permissions, the identity gets a project custom role holding only what
it calls (https://cloud.google.com/iam/docs/creating-custom-roles).

A deleted custom role keeps its id: it can be undeleted for 7 days, and the id stays taken
for up to 30 more (https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role).
A stack destroyed and brought up again must not reuse it, so each role id ends with a
random suffix generated once and kept in the state (:class:`RoleSuffix`); a new stack, or
the same one after a destroy, draws a new one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider
from pulumi_gcp import projects

from mlops_infra.backends.gcp._scope import AnyContext, current_project_id

__all__ = ["ROLE_ID_MAX", "RoleSuffix", "custom_role", "role_id"]

ROLE_ID_MAX = 64
"""Longest role id IAM accepts (letters, digits, ``_`` and ``.``; at least 3 characters:
https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/create). Titles take at
most 100 bytes and descriptions 300 (https://cloud.google.com/iam/quotas#limits)."""

_TITLE_MAX = 100
_DESCRIPTION_MAX = 300
_SUFFIX_BYTES = 4
_OFFLINE_SUFFIX = "0" * 2 * _SUFFIX_BYTES
_INVALID_ID_CHARS = re.compile(r"[^A-Za-z0-9_]")


class _SuffixProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        import secrets  # noqa: PLC0415 - provider side; keeps the pickled provider small

        value = secrets.token_hex(_SUFFIX_BYTES)
        return CreateResult(id_=f"suffix-{props['keeper']}", outs={**props, "value": value})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("keeper") != news.get("keeper")
        return DiffResult(
            changes=changed, replaces=["keeper"] if changed else [], delete_before_replace=False
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})


class RoleSuffix(Resource, module="mlops", name="GcpRoleSuffix"):
    """Random hex drawn at create and kept in the state: the tail of a custom role id."""

    value: pulumi.Output[str]
    """Eight lowercase hex digits."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        """Declares the suffix ``name`` (a new one only when the resource is created again)."""
        super().__init__(_SuffixProvider(), name, {"keeper": name, "value": None}, opts)


def role_id(base: str, suffix: str) -> str:
    """Returns ``<base>_<suffix>`` as a valid role id: ``base`` cleaned and cut to fit 64.

    Raises:
        ValueError: ``suffix`` is empty or holds characters a role id cannot.
    """
    if not suffix or _INVALID_ID_CHARS.search(suffix):
        msg = f"custom role suffix {suffix!r}: expected letters, digits or '_'"
        raise ValueError(msg)
    cleaned = _INVALID_ID_CHARS.sub("_", base).strip("_") or "role"
    return f"{cleaned[: ROLE_ID_MAX - len(suffix) - 1]}_{suffix}"


def custom_role(
    ctx: AnyContext, role: str, permissions: Sequence[str], purpose: str
) -> projects.IAMCustomRole:
    """Declares the project custom role ``<name>-<role>`` holding exactly ``permissions``.

    Its id is ``<name>_<role>_<8 hex digits>`` (see the module documentation), its title
    names the stack, and its description says ``purpose``.

    Raises:
        ValueError: ``permissions`` is empty.
    """
    if not permissions:
        msg = f"custom role {ctx.child_name(role)!r}: give at least one permission"
        raise ValueError(msg)
    name = ctx.child_name(role)
    suffix = RoleSuffix(ctx.child_name(f"{role}-suffix"), ctx.opts())
    return projects.IAMCustomRole(
        name,
        project=current_project_id(),
        # Offline runs echo inputs (no suffix drawn): zeros keep the id well-formed there.
        role_id=suffix.value.apply(lambda value: role_id(name, value or _OFFLINE_SUFFIX)),
        title=f"{name} (stack {ctx.stack_name})"[:_TITLE_MAX],
        description=purpose[:_DESCRIPTION_MAX],
        permissions=sorted(permissions),
        stage="GA",
        opts=ctx.opts(),
    )
