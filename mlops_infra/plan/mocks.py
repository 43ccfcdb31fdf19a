"""Mocks for plans: inputs echoed as outputs, plus the few outputs programs read back.

:class:`~mlops_infra.offline.EchoMocks` echoes inputs; a few outputs are computed by the
provider and read back by the program (the local store's ``uri``, account ids from
invokes). These mocks fill them with fixed, obviously fake values, so a plan is the
same on every machine and never needs credentials. Each cloud answers its own invokes
and fills its own computed outputs, through the mocks its descriptor names (its
``mocks``, the class its unit tests use); this module knows no cloud.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.errors import RegistryError
from mlops_infra.offline import CloudMocks, EchoMocks
from mlops_infra.registry import FlavorRegistry, default_registry

__all__ = ["GATE_PENDING", "PlanMocks", "cloud_mocks"]

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


def cloud_mocks(
    clouds: Iterable[str] | None = None,
    region: str | None = None,
    registry: FlavorRegistry | None = None,
) -> list[CloudMocks]:
    """Returns the mocks of ``clouds`` (every registered cloud when ``None``), previewed.

    Each cloud names its :class:`~mlops_infra.offline.CloudMocks` subclass through its
    descriptor's :attr:`~mlops_infra.registry.CloudInfo.mocks`; a cloud that names none
    answers nothing.

    Raises:
        RegistryError: a cloud is unknown, or its ``mocks`` is not a ``CloudMocks`` subclass.
    """
    registry = registry or default_registry()
    found: list[CloudMocks] = []
    for name in registry.clouds() if clouds is None else clouds:
        cloud = registry.cloud(name)
        if cloud.mocks is None:
            continue
        what = f"cloud {name!r}: mocks"
        mocks = registry.resolve(cloud.mocks, what)
        if not (isinstance(mocks, type) and issubclass(mocks, CloudMocks)):
            msg = f"{what} {cloud.mocks!r} is not a subclass of mlops_infra.offline.CloudMocks"
            raise RegistryError(msg)
        found.append(mocks(region=region, applied=False))
    return found


class PlanMocks(EchoMocks):
    """The clouds' mocks, previewed, and what only a plan answers.

    Each cloud's invokes and computed outputs are those of its
    :class:`~mlops_infra.offline.CloudMocks` (the class its unit tests use), previewed:
    nothing ``pulumi up`` would assign. Composing their hooks over one echo lets a program
    that mixes clouds be planned too.

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
        self._clouds = cloud_mocks(clouds, region, registry)
        results: dict[str, Mapping[str, Any]] = {}
        for mocks in self._clouds:
            results.update(mocks.invoke_answers())
        results.update(calls or {})
        super().__init__(calls=results)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Echoes the inputs, with the outputs a plan must fill in.

        A cloud's computed outputs come from its mocks, previewed (over the echoed
        inputs: what the cloud's mocks answer with ``applied=False``); a local resource's
        ``path`` gives its ``file://`` ``uri``; a promotion gate, which is evaluated
        against the tracking server only at ``pulumi up``, reports the placeholder version
        :data:`GATE_PENDING`, so that what it would deploy is planned; a stack reference
        exports nothing.
        """
        resource_id, state = super().new_resource(args)
        inputs = typing.cast(Mapping[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType]
        for mocks in self._clouds:
            # The cloud's answer wins: it fills what the echo leaves empty and reshapes
            # what the provider returns differently (a list input that comes back a map).
            state.update(mocks.previewed(args.typ, args.name, inputs) or {})
        if args.typ == _GATE:
            state.update(_GATE_OUTPUTS)
        elif args.typ == _STACK_REFERENCE:
            # Another stack's outputs cannot be read offline: it exports nothing here.
            state.update({"outputs": {}, "secretOutputNames": []})
        path = state.get("path")
        if args.typ.startswith(_DYNAMIC) and state.get("uri") is None and isinstance(path, str):
            state["uri"] = Path(path).as_uri()
        return resource_id, state
