"""``mlops_infra.outputs.concat``: what ``pulumi.Output.concat`` gives, with less work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from mlops_infra.offline import run_offline
from mlops_infra.outputs import concat
from mlops_infra.testing import FakeResource

Parts = Callable[[FakeResource, FakeResource], list[pulumi.Input[str]]]

CASES: dict[str, Parts] = {
    "strings only": lambda a, b: ["arn:", "aws", ":s3:::", "bucket"],
    "one output first": lambda a, b: [a.output("name"), "/key"],
    "one output inside": lambda a, b: ["arn:aws:s3:::", a.output("name"), "/*"],
    "one output last": lambda a, b: ["s3://", a.output("name")],
    "one secret output": lambda a, b: ["s3://", pulumi.Output.secret("hidden"), "/"],
    "two outputs": lambda a, b: [a.output("name"), "/", b.output("name")],
    "output only": lambda a, b: [a.output("name")],
}


def _facts(build: Callable[..., pulumi.Output[str]], parts: Parts) -> dict[str, Any]:
    def program() -> pulumi.Output[dict[str, Any]]:
        first = FakeResource("Thing", "first", {"name": "bucket-a"})
        second = FakeResource("Thing", "second", {"name": "bucket-b"})
        out = build(*parts(first, second))

        async def facts() -> dict[str, Any]:
            return {
                "value": await out.future(),
                "known": await out.is_known(),
                "secret": await out.is_secret(),
                "depends on": sorted(r._name for r in await out.resources()),
            }

        return pulumi.Output.from_input(facts())

    result: dict[str, Any] = run_offline(program).result
    return result


@pytest.mark.parametrize("case", CASES)
def test_concat_gives_what_output_concat_gives(case: str) -> None:
    ours, theirs = _facts(concat, CASES[case]), _facts(pulumi.Output.concat, CASES[case])
    assert ours == theirs
    assert ours["known"] is True


def test_concat_values() -> None:
    assert _facts(concat, CASES["one output inside"]) == {
        "value": "arn:aws:s3:::bucket-a/*",
        "known": True,
        "secret": False,
        "depends on": ["first"],
    }
    assert _facts(concat, CASES["one secret output"])["secret"] is True
