"""Resolve stack outputs offline with every secret value masked.

:func:`~mlops_infra.offline.run_offline` resolves exported outputs as plain values, which
would unwrap secrets; plans resolve them here instead, asking each output whether it
is secret before reading it.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

from mlops_infra.plan.normalize import SECRET_MASK

__all__ = ["masked_outputs"]


async def _resolve(value: Any) -> Any:
    if isinstance(value, pulumi.Output):
        output = typing.cast(pulumi.Output[Any], value)
        if await output.is_secret():
            return SECRET_MASK
        return await _resolve(await output.future())
    if isinstance(value, Mapping):
        mapping = typing.cast(Mapping[Any, Any], value)
        return {str(k): await _resolve(v) for k, v in mapping.items()}
    if isinstance(value, (list, tuple)):
        return [await _resolve(v) for v in typing.cast(list[Any], value)]
    return value


def masked_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Resolves ``outputs`` (values may be Outputs, nested) with secrets as ``[secret]``.

    Call it after the offline run that created the outputs, in the same process.
    """
    resolved: dict[str, Any] = _sync_await(_resolve(dict(outputs)))
    return resolved
