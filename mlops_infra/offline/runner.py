"""Run a Pulumi program offline, under mocks, and record every resource it registers.

No engine, no credentials, no network: resource registrations are answered by
:class:`EchoMocks` (outputs = inputs plus deterministic ids), and every request is
kept with its resource options, so tests and ``mlops-infra plan`` can see exactly
what a program would create.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import typing
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

from mlops_infra.offline.collection import synthesis_policy
from mlops_infra.offline.stack_traces import fast_stack_traces
from mlops_infra.offline.unknowns import acyclic_unknowns

__all__ = [
    "MOCK_ARN_PREFIX",
    "EchoMocks",
    "ProgramRun",
    "RecordingMonitor",
    "Registration",
    "is_secret",
    "run_offline",
    "unwrap_secrets",
]

MOCK_ARN_PREFIX = "arn:mock:"
"""How :class:`EchoMocks`' placeholder ARNs start (``arn:mock:<package>::<name>``)."""

SECRET_MASK = "[secret]"  # noqa: S105 - the mask, not a password


def is_secret(value: object) -> bool:
    """Whether ``value`` is a secret as it travels over Pulumi's RPC (a wrapped value)."""
    return bool(rpc.is_rpc_secret(value))


def unwrap_secrets(value: Any, *, mask: bool = False) -> Any:
    """Returns ``value`` with RPC secret wrappers removed (replaced by ``[secret]`` if ``mask``)."""
    if is_secret(value):
        inner: Any = rpc.unwrap_rpc_secret(value)
        return SECRET_MASK if mask else unwrap_secrets(inner)
    if isinstance(value, dict):
        mapping = typing.cast(dict[Any, Any], value)
        return {str(k): unwrap_secrets(v, mask=mask) for k, v in mapping.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v, mask=mask) for v in typing.cast(list[Any], value)]
    return value


@dataclass(frozen=True)
class Registration:
    """One resource the program registered, with its inputs and resource options.

    Attributes:
        urn: Its URN (encodes the parent type chain).
        type: Type token, e.g. ``random:index/randomPet:RandomPet``, ``mlops:index:Pipeline``.
        name: Logical name.
        parent: Parent URN, or ``None`` for children of the stack.
        custom: ``False`` for component resources.
        inputs: Inputs as sent to the engine (secrets still wrapped; see :func:`unwrap_secrets`).
        protect: ``protect`` resource option.
        retain_on_delete: ``retain_on_delete`` resource option.
        replace_on_changes: Input paths that force replacement.
        ignore_changes: Input paths whose changes are ignored.
        additional_secret_outputs: Outputs marked secret.
        delete_before_replace: ``delete_before_replace`` resource option.
        depends_on: URNs of explicit dependencies.
        provider: Provider reference, if explicit.
    """

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: Mapping[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    delete_before_replace: bool = False
    depends_on: tuple[str, ...] = ()
    provider: str | None = None

    def plain_inputs(self, *, parse_json: bool = False) -> dict[str, Any]:
        """Inputs with secrets unwrapped (test assertions).

        Args:
            parse_json: Also parse the inputs that are JSON documents in a string (policy
                documents, pipeline definitions): a string input starting with ``{`` or
                ``[`` that parses is replaced by its value; any other stays a string.
        """
        values: dict[str, Any] = unwrap_secrets(dict(self.inputs))
        if parse_json:
            for key, value in values.items():
                if isinstance(value, str) and value[:1] in ("{", "["):
                    with contextlib.suppress(ValueError):
                        values[key] = json.loads(value)
        return values

    def masked_inputs(self) -> dict[str, Any]:
        """Inputs with every secret value replaced by ``[secret]`` (plans, logs)."""
        return unwrap_secrets(dict(self.inputs), mask=True)


class EchoMocks(pulumi.runtime.Mocks):
    """Mocks that echo inputs as outputs, with ids and ARNs derived from names.

    Args:
        outputs: Extra outputs per resource type token (merged over the echoed inputs).
        calls: Results per invoke token (e.g. ``random:index/getPet:getPet``).
    """

    def __init__(
        self,
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Creates the mocks."""
        self._outputs = dict(outputs or {})
        self._calls = dict(calls or {})

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Returns ``<name>-id`` and the inputs, plus the configured outputs for the type."""
        inputs = typing.cast(dict[str, Any], args.inputs)  # pyright: ignore[reportUnknownMemberType]
        state: dict[str, Any] = dict(inputs)
        state.update(self._outputs.get(args.typ, {}))
        resource_id = args.resource_id or self.resource_id(args.name)
        state.setdefault("arn", self.arn(args.typ, args.name))
        return resource_id, state

    @staticmethod
    def resource_id(name: str) -> str:
        """The id these mocks give a resource named ``name`` (unless the program sets one)."""
        return f"{name}-id"

    @staticmethod
    def arn(type_token: str, name: str) -> str:
        """The placeholder ARN these mocks give a resource whose outputs set none."""
        return f"{MOCK_ARN_PREFIX}{type_token.split(':', maxsplit=1)[0]}::{name}"

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Returns the configured result for the invoke token, or ``{}``."""
        # An empty failure list, not None: the mock monitor iterates it.
        return dict(self._calls.get(args.token, {})), []


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration request, options included."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        """Creates the monitor around ``mocks``."""
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Records the request, then lets the mocks answer it."""
        response: Any = super().RegisterResource(request)  # pyright: ignore[reportUnknownMemberType]
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object, keep_internal=False)
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    inputs=dict(inputs) if isinstance(inputs, dict) else {},  # pyright: ignore[reportUnknownArgumentType]
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    replace_on_changes=tuple(request.replaceOnChanges),
                    ignore_changes=tuple(request.ignoreChanges),
                    additional_secret_outputs=tuple(request.additionalSecretOutputs),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    depends_on=tuple(request.dependencies),
                    provider=request.provider or None,
                )
            )
        return response


@dataclass
class ProgramRun:
    """The outcome of :func:`run_offline`.

    Attributes:
        registrations: Every resource registered, in registration order.
        result: What the program function returned (awaited if it was an Output).
        outputs: Stack outputs the program exported with ``pulumi.export``.
    """

    registrations: list[Registration]
    result: Any = None
    outputs: dict[str, Any] = field(default_factory=dict[str, Any])

    def of_type(self, type_token: str) -> list[Registration]:
        """Returns the registrations of one type token."""
        return [r for r in self.registrations if r.type == type_token]

    def one(self, type_token: str, name: str) -> Registration:
        """Returns the single registration of ``type_token`` named ``name``.

        Raises:
            KeyError: none or several; the message lists the names of that type.
        """
        of_type = self.of_type(type_token)
        found = [r for r in of_type if r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in of_type)
            msg = f"{len(found)} {type_token} named {name!r}; names of that type: {names}"
            raise KeyError(msg)
        return found[0]

    def inputs(self, type_token: str, name: str, *, parse_json: bool = False) -> dict[str, Any]:
        """Returns the plain inputs of :meth:`one` (see :meth:`Registration.plain_inputs`)."""
        return self.one(type_token, name).plain_inputs(parse_json=parse_json)

    def names(self, type_token: str) -> list[str]:
        """Returns the names of the registrations of ``type_token``, sorted."""
        return sorted(r.name for r in self.of_type(type_token))

    def named(self, name: str) -> Registration:
        """Returns the single registration named ``name``; raises ``KeyError`` otherwise."""
        found = [r for r in self.registrations if r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.registrations]
            msg = f"{len(found)} resources named {name!r}; names: {names}"
            raise KeyError(msg)
        return found[0]

    def children_of(self, parent: Registration) -> list[Registration]:
        """Returns the direct children of ``parent``."""
        return [r for r in self.registrations if r.parent == parent.urn]


@contextlib.contextmanager
def _quiet_loop() -> Generator[None]:
    # The Pulumi runtime creates an event loop on first use; make sure one is current.
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    yield


def run_offline(
    program: Callable[[], Any],
    *,
    project: str = "mlops",
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    secret_keys: tuple[str, ...] = (),
    mocks: pulumi.runtime.Mocks | None = None,
    preview: bool = False,
    monitor: RecordingMonitor | None = None,
    sdk_defaults: bool = False,
) -> ProgramRun:
    """Runs ``program`` under fresh mocks and returns what it registered.

    While it runs, the program gets the settings of mlops-infra's program process:
    no automatic garbage collection (:func:`~mlops_infra.offline.collection.synthesis_policy`),
    the SDK's stack traces captured from frame objects
    (:func:`~mlops_infra.offline.stack_traces.fast_stack_traces`) and its check for unknown
    values without a reference cycle per call
    (:func:`~mlops_infra.offline.unknowns.acyclic_unknowns`).

    Args:
        program: The Pulumi program (a function that declares resources).
        project: Project name (the config namespace of un-prefixed keys).
        stack: Stack name.
        config: Config values, keyed ``namespace:key`` (objects as JSON strings or values).
        secret_keys: Config keys that are secrets.
        mocks: Mocks to answer registrations; default :class:`EchoMocks`.
        preview: Run as a preview (unknown outputs stay unknown, ``apply`` is skipped).
        monitor: Monitor to record into (pass one to see what was registered even when the
            program raises); default: a new one around ``mocks``.
        sdk_defaults: Run it as a plain Pulumi program runs instead: the interpreter's
            garbage collection and the SDK's own functions (the hand-written side of
            ``benchmarks/overhead.py``). Registrations are the same either way.

    Raises:
        Exception: whatever the program raised, including errors inside ``apply``.
    """
    monitor = monitor or RecordingMonitor(mocks or EchoMocks())
    with _quiet_loop(), _program_settings(sdk_defaults=sdk_defaults):
        # A fresh root stack per run: set_mocks reuses an existing one, and with it the
        # outputs exported by an earlier program.
        settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor
        )
        pulumi.runtime.set_all_config(
            {k: v if isinstance(v, str) else _json(v) for k, v in (config or {}).items()},
            list(secret_keys),
        )
        holder: dict[str, Any] = {}

        def body() -> pulumi.Output[Any]:
            result = program()
            # Returned Outputs are awaited by the test decorator; keep their value.
            return pulumi.Output.from_input(result).apply(lambda value: holder.update(result=value))

        # The decorator awaits every outstanding RPC and re-raises errors from inside apply().
        wrapped = typing.cast(Callable[[], None], pulumi.runtime.test(body))  # pyright: ignore[reportUnknownMemberType]
        wrapped()
        outputs = _exported_outputs()
    result = holder.get("result")
    return ProgramRun(registrations=list(monitor.registrations), result=result, outputs=outputs)


@contextlib.contextmanager
def _program_settings(*, sdk_defaults: bool) -> Generator[None]:
    if sdk_defaults:
        yield
        return
    with synthesis_policy(), fast_stack_traces(), acyclic_unknowns():
        yield


def _json(value: Any) -> str:
    import json  # noqa: PLC0415 - only needed for structured config

    return json.dumps(value)


def _exported_outputs() -> dict[str, Any]:
    root = pulumi.runtime.get_root_resource()
    outputs: Any = getattr(root, "outputs", None)
    if not isinstance(outputs, dict):
        return {}
    resolved: dict[str, Any] = {}
    for key, value in outputs.items():  # pyright: ignore[reportUnknownVariableType]
        resolved[str(key)] = _sync_await(pulumi.Output.from_input(value).future())  # pyright: ignore[reportUnknownArgumentType]
    return resolved
