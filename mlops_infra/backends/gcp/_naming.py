"""GCP physical names and labels: derived from the stack and the component, within limits.

Pure helpers (no SDK import at module level), so the naming and label rules can be
table-tested without Pulumi's providers: physical names (DNS labels, service account ids)
salted with the stack name, labels from the stack's tags, and :func:`fmt`, which builds
names and paths from outputs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

if TYPE_CHECKING:
    from mlops_infra.backends.gcp._scope import AnyContext

__all__ = [
    "account_id",
    "fmt",
    "gcp_labels",
    "label_value",
    "physical_name",
    "short_hash",
]

_LABEL_MAX = 63
_INVALID_LABEL_CHARS = re.compile(r"[^a-z0-9_-]")
_INVALID_NAME_CHARS = re.compile(r"[^a-z0-9-]")
_ACCOUNT_ID_MIN, _ACCOUNT_ID_MAX = 6, 30


def short_hash(*parts: str, length: int = 6) -> str:
    """Returns ``length`` hex digits of the SHA-256 of ``parts`` (stable across machines)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def label_value(value: str) -> str:
    """Returns ``value`` as a GCP label value: lowercase ``[a-z0-9_-]``, at most 63 characters.

    Characters outside the set become ``_``; a value that had to be cut keeps a hash of
    the original at its end, so two long values never collapse into one.
    """
    cleaned = _INVALID_LABEL_CHARS.sub("_", value.lower())
    if len(cleaned) <= _LABEL_MAX:
        return cleaned
    return f"{cleaned[: _LABEL_MAX - 7]}-{short_hash(value)}"


def _label_key(key: str) -> str:
    cleaned = label_value(key)
    # Keys must start with a lowercase letter.
    return cleaned if cleaned[:1].isalpha() else f"k{cleaned}"[:_LABEL_MAX]


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Converts tags (``ctx.tags()``) into GCP labels.

    GCP labels allow lowercase letters, digits, ``_`` and ``-``, at most 63 characters,
    keys starting with a letter. Other characters become ``_``; when two tags map to
    the same key, the later one wins (the stack's own tags come after the standard ones).
    """
    return {_label_key(key): label_value(value) for key, value in tags.items() if key}


def physical_name(base: str, *, max_length: int, salt: str = "") -> str:
    """Returns a DNS-label name derived from ``base``, at most ``max_length`` characters.

    Lowercase letters, digits and ``-``; starts with a letter. A ``salt`` (the stack
    name) adds a short hash so that two stacks in one project never collide; a name
    that has to be shortened keeps a hash of the full name.
    """
    cleaned = _INVALID_NAME_CHARS.sub("-", base.lower()).strip("-")
    if not cleaned[:1].isalpha():
        cleaned = f"m-{cleaned}"
    suffix = f"-{short_hash(salt, base)}" if salt else ""
    if len(cleaned) + len(suffix) <= max_length:
        return f"{cleaned}{suffix}"
    keep = max_length - len(suffix) - 7
    hashed = f"-{short_hash('cut', salt, base)}"
    return f"{cleaned[:keep].rstrip('-')}{hashed}{suffix}"


def account_id(ctx: AnyContext, role: str) -> str:
    """Returns a service account id for ``role`` of the component: 6-30 characters.

    ``identity.name_prefix`` is put in front; the stack name salts the hash so that
    stacks sharing a project get distinct identities.
    """
    prefix = ctx.target.identity.name_prefix
    base = f"{prefix}-{ctx.name}-{role}" if prefix else f"{ctx.name}-{role}"
    name = physical_name(base, max_length=_ACCOUNT_ID_MAX, salt=ctx.stack_name)
    return name if len(name) >= _ACCOUNT_ID_MIN else f"{name}-sa"


def fmt(template: str, *values: pulumi.Input[Any]) -> pulumi.Output[str]:
    """Returns ``template.format(*values)`` once the values resolve.

    Unlike ``Output.concat`` it never fails on a value that resolves to ``None`` (an
    output the offline mocks do not fill in). Values are of any type, as for ``str.format``.
    """
    return pulumi.Output.all(*values).apply(lambda resolved: template.format(*resolved))
