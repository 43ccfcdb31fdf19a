"""Field descriptions: attribute docstrings read at schema time, by pydantic's own rule."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_infra.specs import StackSpec
from mlops_infra.specs._base import Spec
from mlops_infra.specs._docs import attribute_docstrings


class Parent(Spec):
    """A parent."""

    a: int = 1
    """Doc of a,
    on two lines."""

    b: str = Field(default="x", description="explicit")
    """Not used: the explicit description wins."""

    c: int = 2
    """Doc of c."""

    d: int | None = None
    e: int = 3
    # a comment between the field and its docstring keeps it its docstring
    """Doc of e."""


class Child(Parent):
    """A child."""

    nested: Parent = Parent()
    """Nested."""

    c: int = 4

    class Inner(Spec):
        """An inner model."""

        x: int = 0
        """Doc of x."""


_PYDANTIC = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class PydanticParent(BaseModel):
    """A parent."""

    model_config = _PYDANTIC

    a: int = 1
    """Doc of a,
    on two lines."""

    b: str = Field(default="x", description="explicit")
    """Not used: the explicit description wins."""

    c: int = 2
    """Doc of c."""

    d: int | None = None
    e: int = 3
    # a comment between the field and its docstring keeps it its docstring
    """Doc of e."""


class PydanticChild(PydanticParent):
    """A child."""

    nested: PydanticParent = PydanticParent()
    """Nested."""

    c: int = 4


def _descriptions(schema: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    models = {"": schema, **schema.get("$defs", {})}
    return {
        name.removeprefix("Pydantic"): {
            key: value.get("description") for key, value in model["properties"].items()
        }
        for name, model in models.items()
    }


def test_descriptions_are_those_pydantic_would_read() -> None:
    ours = _descriptions(Child.model_json_schema())
    theirs = _descriptions(PydanticChild.model_json_schema())
    assert ours == theirs
    assert ours[""] == {
        "a": "Doc of a,\non two lines.",
        "b": "explicit",
        "c": None,
        "d": None,
        "e": "Doc of e.",
        "nested": "Nested.",
    }


def test_nested_classes_are_found_by_qualified_name() -> None:
    assert attribute_docstrings(Child.Inner) == {"x": "Doc of x."}
    assert Child.Inner.model_json_schema()["properties"]["x"]["description"] == "Doc of x."


def test_a_class_defined_in_a_function_is_found() -> None:
    def local() -> type[Spec]:
        class Local(Spec):
            y: int = 0
            """Doc of y."""

        return Local

    assert attribute_docstrings(local()) == {"y": "Doc of y."}


def test_a_class_without_source_has_no_docstrings() -> None:
    made = type("Made", (Spec,), {"__annotations__": {"z": int}, "z": 0})
    assert attribute_docstrings(made) == {}
    assert "description" not in made.model_json_schema()["properties"]["z"]


def test_stack_spec_fields_are_described() -> None:
    schema = StackSpec.model_json_schema()
    assert schema["properties"]["region"]["description"] == (
        "Cloud region; default: the provider's configured region."
    )
    registry = schema["$defs"]["ContainerRegistrySpec"]["properties"]
    assert registry["create"]["description"] == "Create a registry for the stack's images."
