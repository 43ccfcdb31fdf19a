"""What the AWS dynamic providers share: boto3 clients, progress lines, polling.

Dynamic providers run in a separate process started by the Pulumi engine; ``pulumi.log``
is not available there, so progress goes to stderr, which the engine shows under the
resource during ``up``. ``boto3`` is imported on first use: programs (and ``preview``)
never load it.
"""

from __future__ import annotations

import sys
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AwsApi", "conform", "error_code", "progress"]

_INTEGERS = frozenset({"integer", "long"})


def progress(message: str) -> None:
    """Prints a progress line the engine shows under the resource being deployed."""
    print(message, file=sys.stderr, flush=True)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for any other error)."""
    response: Any = getattr(error, "response", None)
    try:
        return str(response["Error"]["Code"])
    except (TypeError, KeyError):
        return ""


def conform(service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with whole floats made integers where botocore's model wants an integer.

    A dynamic provider receives its inputs through protobuf's ``Struct``, in which every
    number is a double: ``InstanceCount: 1`` arrives as ``1.0``, which botocore refuses for
    an integer parameter before sending anything.
    """
    import botocore.session  # pyright: ignore[reportMissingTypeStubs]  # noqa: PLC0415 - provider side only

    model: Any = botocore.session.get_session().get_service_model(service)  # pyright: ignore[reportUnknownMemberType]
    return dict(_conformed(params, model.operation_model(operation).input_shape))


def _conformed(value: Any, shape: Any) -> Any:
    kind = shape.type_name
    if kind in _INTEGERS and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members
        return {
            key: _conformed(item, members[key]) if key in members else item
            for key, item in typing.cast(Mapping[str, Any], value).items()
        }
    if kind == "list" and isinstance(value, list):
        return [_conformed(item, shape.member) for item in typing.cast(list[Any], value)]
    if kind == "map" and isinstance(value, Mapping):
        return {
            key: _conformed(item, shape.value)
            for key, item in typing.cast(Mapping[str, Any], value).items()
        }
    return value


@dataclass
class AwsApi:
    """boto3 clients of one region, with the clock the waits use (tests pass their own).

    Attributes:
        region: Region of the clients (``None``: the environment's default).
        poll_s: Seconds between two status reads while waiting.
        sleep: Waits that many seconds.
        clock: Monotonic seconds (timeouts).
    """

    region: str | None = None
    poll_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, Any] = field(default_factory=dict[str, Any], repr=False)

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` (created once)."""
        if service not in self._clients:
            import boto3  # pyright: ignore[reportMissingTypeStubs]  # noqa: PLC0415 - provider side only

            self._clients[service] = boto3.client(service, region_name=self.region)  # pyright: ignore[reportUnknownMemberType]
        return self._clients[service]

    def wait(self, what: str, poll: Callable[[], tuple[bool, str]], timeout_s: float) -> None:
        """Calls ``poll`` every ``poll_s`` until it says done, printing each new state.

        Raises:
            TimeoutError: not done after ``timeout_s`` seconds.
        """
        start = self.clock()
        last = ""
        while True:
            done, state = poll()
            if state != last:
                progress(f"{what}: {state} ({self.clock() - start:.0f}s)")
                last = state
            if done:
                return
            if self.clock() - start >= timeout_s:
                msg = f"{what}: still {state} after {timeout_s:.0f}s"
                raise TimeoutError(msg)
            self.sleep(self.poll_s)
