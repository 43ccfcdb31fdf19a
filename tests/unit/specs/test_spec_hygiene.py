"""Non-finite numbers and control characters are refused in every spec, with the field path.

Found by mutating the example stack files: a gate threshold of ``"1e309"`` parsed as
infinity, a NUL in a lifecycle prefix. One mechanism (:class:`mlops_infra.specs.Spec`)
covers every field of every spec, flavor options included.
"""

from __future__ import annotations

import copy
import math
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.errors import SpecValidationError
from mlops_infra.specs._base import (
    _control_character,  # pyright: ignore[reportPrivateUsage]
    unclean_values,
)
from mlops_infra.specs.loading import read_stack_file, spec_from_config

STACKS = Path(__file__).resolve().parents[3] / "stacks"

INF = "inf is not a finite number (a value like 1e309 overflows to infinity); allowed: finite"
NAN = "nan is not a finite number; allowed: finite numbers"


def _nul(text: str) -> str:
    return f"holds the control character U+0000 at position {len(text) - 1}; allowed: printable"


Mutation = Callable[[dict[str, Any]], None]


def _set(*path: str | int, value: Any) -> Mutation:
    def mutate(stack: dict[str, Any]) -> None:
        node: Any = stack
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


_THRESHOLD = ("endpoints", 0, "gate", "conditions", 0, "threshold")
_PREFIX = ("artifact_store", "lifecycle", 0, "prefix")

# (stack, mutation, issue path, message fragment)
CASES: list[tuple[str, Mutation, str, str]] = [
    ("dev", _set(*_THRESHOLD, value="1e309"), "endpoints[diagnosis].gate.conditions[0]", INF),
    ("dev", _set(*_THRESHOLD, value=1e309), "endpoints[diagnosis].gate.conditions[0]", INF),
    ("dev", _set(*_THRESHOLD, value="-1e400"), "endpoints[diagnosis].gate.conditions[0]", "-inf"),
    ("prod", _set(*_THRESHOLD, value="nan"), "endpoints[diagnosis].gate.conditions[0]", NAN),
    ("local", _set(*_THRESHOLD, value=math.nan), "endpoints[diagnosis].gate.conditions[0]", NAN),
    (
        "dev",
        _set(*_PREFIX, value="tmp/\x00"),
        "artifact_store.lifecycle[tmp].prefix",
        _nul("tmp/\0"),
    ),
    ("gcp-dev", _set(*_PREFIX, value="a\x00"), "artifact_store.lifecycle[", _nul("a\0")),
    ("prod", _set("tags", "team", value="ml\x1b[31m"), "tags.team", "U+001B at position 2"),
    ("dev", _set("pipelines", 0, "parameters", "seed", value=math.inf), "parameters.seed", INF),
    (
        "dev",
        _set("pipelines", 0, "steps", 0, "parameters", "test_size", value=math.nan),
        "steps[featurize].parameters.test_size",
        NAN,
    ),
    ("dev", _set("tracking", "options", value={"x": "a\x00"}), "tracking.options.x", _nul("a\0")),
    (
        "azure-dev",
        _set("artifact_store", "options", "k\x07", value=1),
        "artifact_store.options",
        "key 'k\\x07' holds the control character U+0007",
    ),
    ("dev", _set("tags", "cost-center", value="ml\x7f"), "tags.cost-center", "U+007F"),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "path", "fragment"),
    CASES,
    ids=[f"{c[0]}:{c[2]}:{i}" for i, c in enumerate(CASES)],
)
def test_unclean_values_are_refused_with_their_path(
    stack: str, mutate: Mutation, path: str, fragment: str
) -> None:
    config = copy.deepcopy(read_stack_file(STACKS / f"Pulumi.{stack}.yaml"))
    mutate(config["mlops:stack"])
    with pytest.raises(SpecValidationError) as raised:
        spec_from_config(config)
    issues = [(i.path, i.message) for i in raised.value.issues]
    assert any(
        issue_path.startswith("mlops:stack.") and path in issue_path and fragment in message
        for issue_path, message in issues
    ), issues


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod", "gcp-dev", "azure-dev"])
def test_example_stacks_are_clean(stack: str) -> None:
    spec_from_config(read_stack_file(STACKS / f"Pulumi.{stack}.yaml"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, []),
        ("line one\nline two\twith a tab", []),
        (math.inf, [(("v",), INF + " numbers")]),
        (-math.inf, [(("v",), "-inf is not a finite number (a value like 1e309 overflows to "
                      "infinity); allowed: finite numbers")]),
        ({"a": [1, math.nan]}, [(("v", "a", 1), NAN)]),
        ({"a\r": 1}, [(("v", "a\r"), "key 'a\\r' holds the control character U+000D; "
                       "allowed: printable text")]),
        (("ok", "\x00"), [(("v", 1), "'\\x00' holds the control character U+0000 at position 0; "
                           "allowed: printable text (tabs and line breaks included)")]),
        ("\x85next line", [(("v",), "'\\x85next line' holds the control character U+0085 at "
                            "position 0; allowed: printable text (tabs and line breaks included)")]),
    ],
)  # fmt: skip
def test_unclean_values(value: object, expected: list[tuple[tuple[str | int, ...], str]]) -> None:
    assert unclean_values(value, ("v",)) == expected


def test_the_refused_characters_are_category_cc_but_tab_and_line_break() -> None:
    refused = [
        code
        for code in range(sys.maxunicode + 1)
        if _control_character(f"ok{chr(code)}") is not None
    ]
    expected = [
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cc" and chr(code) not in "\t\n"
    ]
    assert refused == expected
    assert _control_character("ab\x1bc\x00") == (2, "\x1b")
