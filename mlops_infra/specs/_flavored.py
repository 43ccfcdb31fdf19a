"""The part every concept spec shares: which implementation (flavor) builds it, and its options."""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue

from mlops_infra.specs._base import Spec, raise_issues

__all__ = ["FlavoredSpec", "reject_mixed_existing"]


class FlavoredSpec(Spec):
    """A concept spec built by a flavor: ``(cloud, kind, flavor)`` picks the implementation."""

    flavor: str | None = Field(default=None, examples=["sagemaker", "self-hosted"])
    """Implementation to use on the stack's cloud; omitted means the cloud's default flavor."""

    options: dict[str, JsonValue] = Field(default_factory=dict[str, JsonValue])
    """Flavor-specific settings, validated against the flavor's own options schema."""


def reject_mixed_existing(spec: Spec, existing: Any, *, always_allowed: frozenset[str]) -> None:
    """Rejects a spec that both adopts an existing resource and sets creation fields.

    Adopting and creating are exclusive: a field that only matters when we create the
    resource would be silently ignored otherwise.
    """
    if existing is None:
        return
    mixed = sorted(spec.model_fields_set - always_allowed - {"existing"})
    if mixed:
        raise_issues(
            [
                (
                    ("existing",),
                    "'existing' adopts a resource and cannot be combined with creation "
                    f"fields; remove {', '.join(repr(name) for name in mixed)} "
                    "or remove 'existing'",
                )
            ],
            title=type(spec).__name__,
        )
