"""The part every concept spec shares: which implementation (flavor) builds it, and its options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, JsonValue, ValidationError

from mlops_infra.specs._base import Spec, raise_issues

if TYPE_CHECKING:
    from mlops_infra.registry import Flavor

__all__ = ["FlavoredSpec", "OptionIssue", "reject_mixed_existing", "validate_options"]

OptionIssue = tuple[tuple[str | int, ...], str]
"""Where under ``options`` (``("options", "zone")``) a problem is, and what it is."""


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


def validate_options(
    flavor: Flavor, options: Mapping[str, Any]
) -> tuple[BaseModel | None, list[OptionIssue]]:
    """Validates a spec's ``options`` against ``flavor``'s options model: the one place that does.

    Stack files are checked with it when they load, and components composed in Python
    when they build, so both say the same thing at the same path.

    Returns:
        The validated options (``None`` when the flavor takes none) and the issues found,
        each located from ``options``; the options are ``None`` when there are issues.
    """
    model = flavor.options_model
    if model is None:
        if options:
            return None, [
                (
                    ("options",),
                    f"flavor {flavor.label} takes no options; got {', '.join(sorted(options))}",
                )
            ]
        return None, []
    try:
        return model.model_validate(dict(options)), []
    except ValidationError as error:
        return None, [
            (("options", *detail["loc"]), f"{detail['msg']} (options of flavor {flavor.label})")
            for detail in error.errors()
        ]
