"""The check for unknown values without a reference cycle per call (mlops_infra.offline.unknowns)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from importlib.metadata import version
from types import FunctionType
from typing import Any

import pulumi
import pulumi.runtime.rpc as sdk_rpc
import pytest
from pulumi.output import Unknown

from mlops_infra.offline import run_offline, unknowns
from mlops_infra.offline.unknowns import acyclic_unknowns, contains_unknowns

SDK_CHECK = sdk_rpc.contains_unknowns
DIGEST = unknowns.sdk_unknowns_digest()
reproduces_the_sdk = pytest.mark.skipif(
    DIGEST not in unknowns.VERIFIED_SDK_UNKNOWNS.values(),
    reason=f"the SDK's contains_unknowns changed (digest {DIGEST}): compare it with "
    "unknowns.contains_unknowns and add it to VERIFIED_SDK_UNKNOWNS",
)


@pytest.fixture(autouse=True)
def _sdk_check_in_place() -> Iterator[None]:
    assert sdk_rpc.contains_unknowns is SDK_CHECK
    yield
    sdk_rpc.contains_unknowns = SDK_CHECK
    unknowns._verified.cache_clear()  # pyright: ignore[reportPrivateUsage]


def _holds_itself() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


def _holds_itself_and_unknown() -> dict[str, Any]:
    value: dict[str, Any] = {"u": Unknown()}
    value["self"] = value
    return value


VALUES: list[tuple[str, Any, bool]] = [
    ("unknown", Unknown(), True),
    ("plain text", "text", False),
    ("None", None, False),
    ("number", 3, False),
    ("empty dict", {}, False),
    ("empty list", [], False),
    ("unknown in a dict", {"a": 1, "b": Unknown()}, True),
    ("unknown in a list", [1, Unknown()], True),
    ("unknown deep down", {"a": [{"b": [Unknown()]}]}, True),
    ("unknown as a dict key only", {"k": "v"}, False),
    ("unknown in a tuple (tuples are not entered)", (Unknown(),), False),
    ("unknown in a set (sets are not entered)", frozenset({1}), False),
    ("a list holding itself", _holds_itself(), False),
    ("a dict holding itself and an unknown", _holds_itself_and_unknown(), True),
    ("one list twice", [[1], [1]], False),
]


@reproduces_the_sdk
@pytest.mark.parametrize(
    ("value", "expected"), [(v, e) for _, v, e in VALUES], ids=[i for i, _, _ in VALUES]
)
def test_the_answer_is_the_sdks(value: Any, expected: bool) -> None:
    assert contains_unknowns(value) is expected
    assert SDK_CHECK(value) is expected


def _functions_left_by(check: Callable[[Any], bool]) -> list[FunctionType]:
    """Functions of either module that ``check`` left as garbage (other threads' ignored)."""
    value = {"a": [1, {"b": "c"}]}
    modules = {unknowns.__file__, sdk_rpc.__file__}
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        check(value)
        gc.collect()
        return [
            o
            for o in gc.garbage
            if isinstance(o, FunctionType) and o.__code__.co_filename in modules
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def test_a_check_leaves_no_garbage_where_the_sdks_leaves_a_cycle() -> None:
    assert _functions_left_by(contains_unknowns) == []
    assert [f.__name__ for f in _functions_left_by(SDK_CHECK)] == ["impl"]


def test_an_offline_run_uses_the_check_and_restores_the_sdks() -> None:
    seen: list[object] = []
    run_offline(lambda: seen.append(sdk_rpc.contains_unknowns))
    run_offline(lambda: seen.append(sdk_rpc.contains_unknowns), sdk_defaults=True)
    assert seen == [contains_unknowns, SDK_CHECK]
    assert sdk_rpc.contains_unknowns is SDK_CHECK


def test_outputs_resolve_through_the_check_in_an_offline_run() -> None:
    run = run_offline(lambda: pulumi.Output.from_input({"a": [1]}).apply(lambda v: v["a"]))
    assert run.result == [1]


def test_installing_inside_an_offline_run_leaves_the_run_to_restore_it() -> None:
    installed: list[bool] = []
    run_offline(lambda: installed.append(unknowns.install_acyclic_unknowns()))
    assert installed == [True]
    assert sdk_rpc.contains_unknowns is SDK_CHECK


def test_an_unverified_sdk_check_is_left_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unknowns, "VERIFIED_SDK_UNKNOWNS", {"0.0.0": "something else"})
    unknowns._verified.cache_clear()  # pyright: ignore[reportPrivateUsage]
    with acyclic_unknowns() as replaced:
        assert replaced is False
        assert sdk_rpc.contains_unknowns is SDK_CHECK
    assert unknowns.install_acyclic_unknowns() is False
    assert sdk_rpc.contains_unknowns is SDK_CHECK


def test_an_unlisted_version_with_a_verified_check_gets_the_replacement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(unknowns, "VERIFIED_SDK_UNKNOWNS", {"0.0.0": DIGEST})
    unknowns._verified.cache_clear()  # pyright: ignore[reportPrivateUsage]
    with acyclic_unknowns() as replaced, acyclic_unknowns() as nested:
        assert (replaced, nested) == (True, True)
        assert sdk_rpc.contains_unknowns is contains_unknowns
    assert sdk_rpc.contains_unknowns is SDK_CHECK


def test_a_listed_sdk_version_has_the_digest_listed_with_it() -> None:
    listed = unknowns.VERIFIED_SDK_UNKNOWNS.get(version("pulumi"))
    if listed is None:
        pytest.skip(f"pulumi {version('pulumi')} is not listed: verified by its digest")
    assert listed == DIGEST


def test_the_floor_sdk_is_listed() -> None:
    assert "3.272.0" in unknowns.VERIFIED_SDK_UNKNOWNS
