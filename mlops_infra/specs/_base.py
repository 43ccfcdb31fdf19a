"""Building blocks shared by every spec: the base model, names, tags, JSON values."""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Protocol, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mlops_infra.specs._docs import describe_properties

__all__ = [
    "NAME_PATTERN",
    "JsonScalar",
    "Name",
    "Spec",
    "Tags",
    "check_unique_names",
    "raise_issues",
    "unclean_values",
]

#: Names become parts of cloud resource names (S3 buckets, SageMaker jobs, Cloud Run
#: services, Azure deployments): lowercase DNS labels short enough to leave room for
#: the suffixes each backend adds.
NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$"
_NAME_RE = re.compile(NAME_PATTERN)


def _check_name(value: str) -> str:
    if not _NAME_RE.fullmatch(value):
        msg = (
            f"{value!r} is not a valid name; allowed: 1-32 characters of lowercase letters, "
            "digits and '-', starting with a letter and not ending with '-'"
        )
        raise ValueError(msg)
    return value


Name = Annotated[
    str, AfterValidator(_check_name), Field(json_schema_extra={"pattern": NAME_PATTERN})
]
"""A resource name: a lowercase DNS label of at most 32 characters."""

_TAG_KEY_RE = re.compile(r"^[A-Za-z0-9_.:/=+@-]{1,128}$")


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    for key, tag_value in value.items():
        if not _TAG_KEY_RE.fullmatch(key):
            msg = (
                f"tag key {key!r} is not allowed; allowed: 1-128 characters of letters, "
                "digits and _ . : / = + @ -"
            )
            raise ValueError(msg)
        if len(tag_value) > 256:
            msg = f"tag {key!r} has a value of {len(tag_value)} characters; allowed: at most 256"
            raise ValueError(msg)
    return value


Tags = Annotated[dict[str, str], AfterValidator(_check_tags)]
"""Resource tags (labels on GCP), added to every resource that supports them."""

JsonScalar = str | int | float | bool
"""A parameter value: what a pipeline step or job receives as a hyperparameter."""


#: Control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F, a set the
#: Unicode stability policy fixes) other than the two a text value may hold, a tab and a
#: line break (multi-line text). One regular-expression scan per value: a loop over
#: ``unicodedata.category`` cost every synthesis hundreds of calls.
_REFUSED_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

Location = tuple[str | int, ...]


def _control_character(text: str) -> tuple[int, str] | None:
    found = _REFUSED_CONTROLS.search(text)
    return None if found is None else (found.start(), found.group())


def unclean_values(value: object, loc: Location = ()) -> list[tuple[Location, str]]:
    """Finds the values no spec may hold, wherever they are nested in ``value``.

    Refused: numbers that are not finite (``nan``, ``inf``: ``1e309`` parses as infinity)
    and text, values or keys alike, holding a control character other than a tab or a
    line break (a NUL in a storage prefix, an escape sequence in a tag). Nested specs are
    not entered: each one checks its own fields when it is validated.

    Returns:
        ``(location, message)`` of each value refused, for :func:`raise_issues`.
    """
    issues: list[tuple[Location, str]] = []
    if isinstance(value, BaseModel):
        return issues
    if isinstance(value, float) and not math.isfinite(value):
        overflow = " (a value like 1e309 overflows to infinity)" if math.isinf(value) else ""
        issues.append((loc, f"{value} is not a finite number{overflow}; allowed: finite numbers"))
    elif isinstance(value, str):
        found = _control_character(value)
        if found is not None:
            position, character = found
            issues.append(
                (
                    loc,
                    f"{value!r} holds the control character U+{ord(character):04X} at position "
                    f"{position}; allowed: printable text (tabs and line breaks included)",
                )
            )
    elif isinstance(value, Mapping):
        for key, item in typing.cast(Mapping[object, object], value).items():
            where = (*loc, key if isinstance(key, str | int) else str(key))
            if isinstance(key, str) and (found := _control_character(key)) is not None:
                issues.append(
                    (
                        where,
                        f"key {key!r} holds the control character U+{ord(found[1]):04X}; "
                        "allowed: printable text",
                    )
                )
            issues += unclean_values(item, where)
    elif isinstance(value, list | tuple | set | frozenset):
        items = typing.cast(Iterable[object], value)
        for index, item in enumerate(
            items if not isinstance(value, set | frozenset) else sorted(items, key=repr)
        ):
            issues += unclean_values(item, (*loc, index))
    return issues


class Spec(BaseModel):
    """Base of every user-facing spec: frozen, strict about unknown keys, documented.

    Every spec, flavor options included, refuses non-finite numbers and control
    characters in any field (see :func:`unclean_values`), with the field's path.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=True,
        # Field descriptions come from attribute docstrings, read only when a JSON Schema is
        # generated (pydantic's use_attribute_docstrings parses every model at import).
        json_schema_extra=describe_properties,
        str_strip_whitespace=True,
    )

    @model_validator(mode="after")
    def _refuse_unclean_values(self) -> Self:
        issues = [
            issue
            for name in type(self).model_fields
            for issue in unclean_values(getattr(self, name), (name,))
        ]
        raise_issues(issues, title=type(self).__name__)
        return self


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def check_unique_names(items: Sequence[_Named], what: str) -> Sequence[_Named]:
    """Rejects two items with the same ``name``, pointing at the second one."""
    seen: dict[str, int] = {}
    issues: list[tuple[tuple[str | int, ...], str]] = []
    for index, item in enumerate(items):
        if item.name in seen:
            issues.append(
                (
                    (index, "name"),
                    f"duplicate {what} name {item.name!r} (first defined at index "
                    f"{seen[item.name]}); names must be unique",
                )
            )
        else:
            seen[item.name] = index
    raise_issues(issues, title=what)
    return items


def raise_issues(
    issues: Iterable[tuple[tuple[str | int, ...], str]], *, title: str, value: Any = None
) -> None:
    """Raises one pydantic ``ValidationError`` holding every ``(location, message)`` issue.

    Raised inside a validator, pydantic prefixes each location with the field path of
    the model being validated, so each issue keeps its exact place in the stack file.
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError("semantic", "{message}", {"message": message}),
            loc=loc,
            input=value,
        )
        for loc, message in issues
    ]
    if details:
        raise ValidationError.from_exception_data(title, details)
