"""``<name>-wait``: waits once for a role assignment to propagate, never again."""

from __future__ import annotations

from mlops_infra.backends.azure._propagation import _WaitProvider  # pyright: ignore[reportPrivateUsage]


def _provider(slept: list[float]) -> _WaitProvider:
    provider = _WaitProvider()
    provider.sleep = slept.append
    return provider


def test_create_waits_the_seconds_once() -> None:
    slept: list[float] = []
    result = _provider(slept).create({"after": "grant-1", "seconds": 300.0, "what": "key"})
    assert slept == [300.0]
    assert result.id == "grant-1"
    assert result.outs == {"after": "grant-1", "seconds": 300.0, "what": "key"}


def test_zero_seconds_do_not_wait() -> None:
    slept: list[float] = []
    _provider(slept).create({"after": "grant-1", "seconds": 0, "what": "key"})
    assert slept == []


def test_a_new_grant_waits_again_a_new_duration_does_not() -> None:
    slept: list[float] = []
    provider = _provider(slept)
    old = {"after": "grant-1", "seconds": 300.0, "what": "key"}
    replaced = provider.diff("grant-1", old, {**old, "after": "grant-2"})
    assert replaced.changes is True
    assert replaced.replaces == ["after"]
    same = provider.diff("grant-1", old, dict(old))
    assert same.changes is False
    assert same.replaces == []
    longer = provider.diff("grant-1", old, {**old, "seconds": 600.0})
    assert longer.changes is True
    assert longer.replaces == []
    assert provider.update("grant-1", old, {**old, "seconds": 600.0}).outs == {
        **old,
        "seconds": 600.0,
    }
    assert slept == []  # an update never waits


def test_read_and_delete_touch_nothing() -> None:
    slept: list[float] = []
    provider = _provider(slept)
    props = {"after": "grant-1", "seconds": 300.0, "what": "key"}
    assert provider.read("grant-1", props).outs == props
    provider.delete("grant-1", props)
    assert slept == []
