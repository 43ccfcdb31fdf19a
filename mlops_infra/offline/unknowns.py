"""Pulumi's check for unknown values, without leaving a reference cycle per call.

The Python SDK asks ``pulumi.runtime.rpc.contains_unknowns`` whether a value holds an
unknown (a preview's not-yet-known output) each time an output resolves or is applied:
dozens of times per resource. The SDK's version defines a recursive function inside
itself, so every call leaves a cycle (the function, its closure cell and tuples, and the
``set[int]`` of its annotations, evaluated at each definition) that only a garbage
collection frees. During a synthesis, with automatic collection off
(:mod:`~mlops_infra.offline.collection`), those cycles were two thirds of the garbage
left behind, 67,000 of 76,000 objects for the 300 resources of 50 pipelines and
endpoints, and the collection after a run grew faster than the stack
(``benchmarks/README.md``).

:func:`contains_unknowns` answers the same question the same way (the same walk of
dicts and lists, the same guard against values seen before) with a module-level
function, so nothing is left behind. :func:`acyclic_unknowns` (a block) and
:func:`install_acyclic_unknowns` (the rest of the process) put it in place of the SDK's,
only when the SDK's source is the one it was compared with
(:data:`VERIFIED_SDK_UNKNOWNS`, :mod:`~mlops_infra.offline.sdk_swap`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from typing import Any

import pulumi.runtime.rpc as sdk_rpc
from pulumi.runtime import known_types

from mlops_infra.offline.sdk_swap import SdkSwap, listed_sdk, source_digest

__all__ = [
    "VERIFIED_SDK_UNKNOWNS",
    "acyclic_unknowns",
    "contains_unknowns",
    "install_acyclic_unknowns",
    "sdk_unknowns_digest",
]

VERIFIED_SDK_UNKNOWNS: Mapping[str, str] = {
    "3.272.0": "1f1f335b6f48",  # the floor in pyproject.toml
}
"""SDK versions whose ``contains_unknowns`` :func:`contains_unknowns` reproduces, with the
SHA-256 prefix of its source (:func:`sdk_unknowns_digest`). A listed version is taken as
is; any other is verified by its digest (once per process)."""


def contains_unknowns(val: Any) -> bool:
    """Whether ``val`` is an unknown or holds one in its dicts and lists, nested.

    Each dict or list is entered once (a value that holds itself is walked once), as in
    the SDK.
    """
    return _holds_unknown(val, set())


def _holds_unknown(val: Any, seen_ids: set[int]) -> bool:
    if known_types.is_unknown(val):
        return True
    val_id = id(val)
    if val_id in seen_ids:
        return False
    seen_ids.add(val_id)
    if isinstance(val, dict):
        return any(_holds_unknown(val[k], seen_ids) for k in val)  # pyright: ignore[reportUnknownVariableType]
    if isinstance(val, list):
        return any(_holds_unknown(x, seen_ids) for x in val)  # pyright: ignore[reportUnknownVariableType]
    return False


def sdk_unknowns_digest() -> str:
    """The digest of the installed SDK's ``contains_unknowns``."""
    return source_digest(sdk_rpc, ("contains_unknowns",))


@functools.cache
def _verified() -> bool:
    return listed_sdk(VERIFIED_SDK_UNKNOWNS, sdk_unknowns_digest)


_SWAP = SdkSwap(sdk_rpc, "contains_unknowns", contains_unknowns, _verified)


def install_acyclic_unknowns() -> bool:
    """Uses :func:`contains_unknowns` for the rest of the process, if verified.

    For the program's own process; inside :func:`acyclic_unknowns` (a program run
    offline) it changes nothing. Returns whether it is in place.
    """
    return _SWAP.install()


def acyclic_unknowns() -> contextlib.AbstractContextManager[bool]:
    """Uses :func:`contains_unknowns` for a block, if verified; yields whether it does."""
    return _SWAP.block()
