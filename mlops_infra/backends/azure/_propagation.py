"""``<name>-wait``: a pause between an Azure role assignment and the resource that needs it.

A role assignment exists in ARM as soon as its ``PUT`` returns, but Azure RBAC takes
effect only after it has propagated, which Microsoft documents as up to 10 minutes
(https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected).
A storage account with a customer-managed key reads the key through its identity while it
is created: created right after the grant, it can fail with a permission error. This
dynamic resource waits ``seconds`` once, when the grant it follows is created or replaced
(its ``after`` input changes), and never on later ``up`` runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = ["PropagationWait"]


class _WaitProvider(EngineBoundProvider):
    """Sleeps on create (a new or replaced grant); changes nothing afterwards."""

    # Replaced in tests (a recorder); ``time.sleep`` otherwise.
    sleep: Callable[[float], None] = time.sleep

    def create(self, props: dict[str, Any]) -> CreateResult:
        seconds = float(props["seconds"])
        if seconds > 0:
            from mlops_infra.backends.azure._api import progress  # noqa: PLC0415

            progress(f"waiting {seconds:g} s for {props['what']} to propagate")
            self.sleep(seconds)
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        return CreateResult(id_=str(props["after"]), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A new grant (its id changes) must propagate again; a new duration alone waits
        # for nothing (the grant it follows has long propagated).
        replaces = ["after"] if olds.get("after") != news.get("after") else []
        changes = bool(replaces) or any(olds.get(k) != news.get(k) for k in ("seconds", "what"))
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        del olds
        return UpdateResult(outs={k: v for k, v in news.items() if not k.startswith("__")})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        del props  # nothing exists in the cloud


class PropagationWait(Resource, module="mlops", name="AzurePropagationWait"):
    """Resolves ``seconds`` after the resource named by ``after`` was created (see module)."""

    after: pulumi.Output[str]
    """Id of the resource waited for (a role assignment); a new id waits again."""

    seconds: pulumi.Output[float]
    """How long the wait was."""

    def __init__(
        self,
        name: str,
        *,
        after: pulumi.Input[str],
        seconds: float,
        what: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares a wait ``name`` of ``seconds`` after ``after`` (``what`` names it in logs)."""
        super().__init__(
            _WaitProvider(), name, {"after": after, "seconds": seconds, "what": what}, opts
        )
