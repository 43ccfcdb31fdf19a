"""The base of a cloud's mocks: one class per cloud serves its unit tests and offline plans.

A cloud writes its invoke answers and the outputs its provider computes once, in a
subclass of :class:`CloudMocks` (the built-in clouds in
``mlops_infra.backends.<cloud>.testing``), and names it in its descriptor's
:attr:`~mlops_infra.registry.CloudInfo.mocks`. ``mlops-infra plan`` uses it previewed
(``applied=False``); tests use it applied, so a value a plan shows and the value a test
asserts cannot disagree.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from mlops_infra.offline.runner import EchoMocks

__all__ = ["CloudMocks"]


# Any: Pulumi's mock API passes properties as untyped dicts.
class CloudMocks(EchoMocks):
    """:class:`~mlops_infra.offline.EchoMocks` that answer like one cloud, in two stages.

    * Previewed (``applied=False``, what ``mlops-infra plan`` uses): the invoke answers
      (:meth:`invoke_answers`) and the outputs the provider derives from the inputs that the
      backends read back (:meth:`previewed`); anything else echoes the inputs, with
      ``<name>-id`` ids and placeholder ARNs.
    * Applied (the default, what tests use): also what ``pulumi up`` assigns
      (:meth:`assigned`): physical names and ids, ARNs, e-mails, and what the stack's own
      dynamic resources report once they ran (a gate's decision, a confirmed deployment).
      A previewed output wins over an assigned one, so both stages agree on every value
      a plan shows.

    Subclasses override the three hooks; their constructors take ``region`` and
    ``applied`` by keyword (``mlops-infra plan`` constructs them with ``region=`` the
    stack's region and ``applied=False``).

    Args:
        region: The stack's region (``None``: the cloud's default).
        outputs: Extra outputs per resource type token, merged last (test scenarios).
        calls: Extra or overriding invoke results per token.
        applied: Also answer what ``pulumi up`` assigns (see above).
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
        applied: bool = True,
    ) -> None:
        """Creates the mocks."""
        self.region = region
        self.applied = applied
        answers = dict(self.invoke_answers())
        answers.update(calls or {})
        super().__init__(calls=answers)
        self._extra = {typ: dict(values) for typ, values in (outputs or {}).items()}

    def invoke_answers(self) -> Mapping[str, Mapping[str, Any]]:
        """The cloud's invoke answers, by token (none by default)."""
        return {}

    def previewed(self, typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Outputs the provider derives from ``inputs`` that a plan must show (none by default).

        Args:
            typ: The resource's type token.
            name: Its logical name.
            inputs: Its inputs.
        """
        del typ, name, inputs
        return None

    def assigned(
        self, typ: str, name: str, resource_id: str | None, state: dict[str, Any]
    ) -> str | None:
        """Adds to ``state`` what ``pulumi up`` assigns; returns the resource id.

        Called only when applied, over the echoed inputs; the default assigns nothing.

        Args:
            typ: The resource's type token.
            name: Its logical name.
            resource_id: The id so far (``<name>-id`` unless the program set one).
            state: The outputs so far, updated in place.
        """
        del typ, name, state
        return resource_id

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Answers the invoke (an empty failure list: ``None`` breaks Pulumi's mock monitor)."""
        result, _ = super().call(args)
        return result, []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Echoes the inputs, then what is assigned (if applied), previewed and extra."""
        resource_id, state = super().new_resource(args)
        inputs = typing.cast(Mapping[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType]
        if self.applied:
            resource_id = self.assigned(args.typ, args.name, resource_id, state)
        state.update(self.previewed(args.typ, args.name, inputs) or {})
        state.update(self._extra.get(args.typ, {}))
        return resource_id, state
