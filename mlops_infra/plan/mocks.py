"""Mocks for plans: inputs echoed as outputs, plus the few outputs programs read back.

:class:`~mlops_infra.offline.EchoMocks` echoes inputs; a few outputs are computed by the
provider and read back by the program (the local store's ``uri``, account ids from
invokes). These mocks fill them with fixed, obviously fake values, so a plan is the
same on every machine and never needs credentials. Each cloud answers its own invokes
and fills its own computed outputs (its descriptor's ``plan_invokes`` and
``plan_outputs``); this module knows no cloud.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.errors import RegistryError
from mlops_infra.offline import EchoMocks
from mlops_infra.registry import FlavorRegistry, default_registry

__all__ = ["GATE_PENDING", "PlanMocks", "cloud_invokes", "cloud_outputs"]

_DYNAMIC = "pulumi-python:dynamic/"
_GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
_STACK_REFERENCE = "pulumi:pulumi:StackReference"

GATE_PENDING = "gate-pending"
"""The model version a promotion gate reports in a plan (it decides at ``pulumi up``)."""

_GATE_OUTPUTS: dict[str, Any] = {
    "served_version": GATE_PENDING,
    "served_source": f"mlflow-artifacts:/{GATE_PENDING}/model",
    "decision": {
        "outcome": "pending",
        "reason": "the gate is evaluated against the tracking server at pulumi up",
    },
}


def cloud_invokes(
    clouds: Iterable[str] | None = None,
    region: str | None = None,
    registry: FlavorRegistry | None = None,
) -> dict[str, Mapping[str, Any]]:
    """Returns the invoke answers of ``clouds`` (every registered cloud when ``None``).

    Each cloud declares them through its descriptor's
    :attr:`~mlops_infra.registry.CloudInfo.plan_invokes`.

    Raises:
        RegistryError: a cloud is unknown, or its ``plan_invokes`` is not callable.
    """
    registry = registry or default_registry()
    answers: dict[str, Mapping[str, Any]] = {}
    for name in registry.clouds() if clouds is None else clouds:
        cloud = registry.cloud(name)
        if cloud.plan_invokes is None:
            continue
        what = f"cloud {name!r}: plan_invokes"
        function = registry.resolve(cloud.plan_invokes, what)
        if not callable(function):
            msg = f"{what} {cloud.plan_invokes!r} is not a function (region) -> invoke answers"
            raise RegistryError(msg)
        answers.update(typing.cast(Callable[[str | None], Mapping[str, Any]], function)(region))
    return answers


OutputsFunction = Callable[[str, str, Mapping[str, Any], str | None], Mapping[str, Any] | None]
"""A cloud's ``plan_outputs``: ``(type_token, name, inputs, region) -> outputs or None``."""


def cloud_outputs(
    clouds: Iterable[str] | None = None, registry: FlavorRegistry | None = None
) -> list[OutputsFunction]:
    """Returns the ``plan_outputs`` functions of ``clouds`` (every registered cloud when ``None``).

    Raises:
        RegistryError: a cloud is unknown, or its ``plan_outputs`` is not callable.
    """
    registry = registry or default_registry()
    functions: list[OutputsFunction] = []
    for name in registry.clouds() if clouds is None else clouds:
        cloud = registry.cloud(name)
        if cloud.plan_outputs is None:
            continue
        what = f"cloud {name!r}: plan_outputs"
        function = registry.resolve(cloud.plan_outputs, what)
        if not callable(function):
            msg = f"{what} {cloud.plan_outputs!r} is not a function (type, name, inputs, region)"
            raise RegistryError(msg)
        functions.append(typing.cast(OutputsFunction, function))
    return functions


class PlanMocks(EchoMocks):
    """Echo mocks with fixed invoke results and the outputs programs read back.

    Args:
        region: Region reported by region invokes (the stack's ``region``).
        calls: Extra or overriding invoke results, by token.
        clouds: Clouds whose invokes are answered (every registered cloud when ``None``).
        registry: Where the clouds are registered (the process-wide one by default).
    """

    def __init__(
        self,
        region: str | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        clouds: Iterable[str] | None = None,
        registry: FlavorRegistry | None = None,
    ) -> None:
        """Creates the mocks."""
        results = cloud_invokes(clouds, region, registry)
        results.update(calls or {})
        super().__init__(calls=results)
        self._region = region
        self._computed = cloud_outputs(clouds, registry)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Echoes the inputs, with the outputs a plan must fill in.

        A cloud's computed outputs come from its ``plan_outputs`` (over the echoed
        inputs); a local resource's ``path`` gives its ``file://``
        ``uri``; a promotion gate, which
        is evaluated against the tracking server only at ``pulumi up``, reports the
        placeholder version :data:`GATE_PENDING`, so that what it would deploy is planned;
        a stack reference exports nothing.
        """
        resource_id, state = super().new_resource(args)
        inputs = typing.cast(Mapping[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType]
        for outputs in self._computed:
            computed = outputs(args.typ, args.name, inputs, self._region) or {}
            # The cloud's answer wins: it fills what the echo leaves empty and reshapes
            # what the provider returns differently (a list input that comes back a map).
            state.update(computed)
        if args.typ == _GATE:
            state.update(_GATE_OUTPUTS)
        elif args.typ == _STACK_REFERENCE:
            # Another stack's outputs cannot be read offline: it exports nothing here.
            state.update({"outputs": {}, "secretOutputNames": []})
        path = state.get("path")
        if args.typ.startswith(_DYNAMIC) and state.get("uri") is None and isinstance(path, str):
            state["uri"] = Path(path).as_uri()
        return resource_id, state
