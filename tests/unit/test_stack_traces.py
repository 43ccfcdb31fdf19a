"""Stack traces captured from frame objects: the same messages the SDK sends, or the SDK's."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any

import pulumi
import pulumi.runtime.resource as sdk_resource
import pytest
from pulumi.runtime.proto import source_pb2

from mlops_infra import load_stack_file
from mlops_infra.backends.aws.testing import AwsMocks
from mlops_infra.offline import EchoMocks, RecordingMonitor, run_offline, stack_traces
from mlops_infra.offline.stack_traces import capture_stack_trace, fast_stack_traces
from mlops_infra.program import build_stack
from tests.unit.aws.helpers import REPO, STACKS, aws_registry

SDK_CAPTURE = sdk_resource._get_stack_trace  # pyright: ignore[reportPrivateUsage]
DIGEST = stack_traces.sdk_capture_digest()
reproduces_the_sdk = pytest.mark.skipif(
    DIGEST not in stack_traces.VERIFIED_SDK_CAPTURES.values(),
    reason=f"the SDK's capture changed (digest {DIGEST}): compare capture_stack_trace with it "
    "and add it to VERIFIED_SDK_CAPTURES; until then the SDK's capture is used",
)
Traces = tuple[source_pb2.StackTrace, source_pb2.StackTrace]


@pytest.fixture(autouse=True)
def _sdk_capture_in_place() -> Iterator[None]:
    assert sdk_resource._get_stack_trace is SDK_CAPTURE  # pyright: ignore[reportPrivateUsage]
    yield
    sdk_resource._get_stack_trace = SDK_CAPTURE  # pyright: ignore[reportPrivateUsage]
    stack_traces._verified.cache_clear()  # pyright: ignore[reportPrivateUsage]


def _both() -> Traces:
    # One line: both captures see this frame at the same line.
    return SDK_CAPTURE(), capture_stack_trace()


class _Base:
    def __init__(self, below: Callable[[], Traces], out: list[Traces]) -> None:
        out.append(below())


class _Middle(_Base):
    def __init__(self, below: Callable[[], Traces], out: list[Traces]) -> None:
        super().__init__(below, out)


class _Concrete(_Middle):
    def __init__(self, below: Callable[[], Traces], out: list[Traces]) -> None:
        self._internal_init(below, out)

    def _internal_init(self, below: Callable[[], Traces], out: list[Traces]) -> None:
        super().__init__(below, out)


def _in_constructors() -> Traces:
    out: list[Traces] = []
    _Concrete(_both, out)
    return out[0]


def _in_two_constructors() -> Traces:
    out: list[Traces] = []
    _Middle(_both, out)
    return out[0]


def _from_a_comprehension() -> Traces:
    return next(iter([_in_constructors() for _ in range(1)]))


def _from_code_named(filename: str) -> Callable[[], Traces]:
    def run() -> Traces:
        scope: dict[str, Any] = {"make": _in_constructors}
        exec(compile("result = make()", filename, "exec"), scope)  # noqa: S102 - a frame with that file name
        return scope["result"]

    return run


def _frames(trace: source_pb2.StackTrace) -> list[tuple[str, int] | None]:
    return [(f.pc.uri, f.pc.line) if f.HasField("pc") else None for f in trace.frames]


@reproduces_the_sdk
@pytest.mark.parametrize(
    "scenario",
    [
        _in_constructors,
        _from_a_comprehension,
        _from_code_named("<string>"),
        _from_code_named("relative/module.py"),
        _from_code_named(""),
        _from_code_named(str(REPO / "some folder" / "naïve #1.py")),
    ],
    ids=["constructors", "comprehension", "pseudo-file", "relative", "empty", "quoted"],
)
def test_the_capture_equals_the_sdks(scenario: Callable[[], Traces]) -> None:
    sdk, ours = scenario()
    assert ours == sdk
    assert len(ours.frames) > 3
    assert _frames(ours)[0] == (f"file://{__file__}", _concrete_call_line())


def _concrete_call_line() -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return lines.index("    _Concrete(_both, out)") + 1


@reproduces_the_sdk
def test_fewer_than_three_constructors_give_an_empty_trace() -> None:
    sdk, ours = _in_two_constructors()
    assert ours == sdk == source_pb2.StackTrace()


@reproduces_the_sdk
def test_pseudo_files_have_no_position_like_the_sdks() -> None:
    _, ours = _from_code_named("<string>")()
    assert None in _frames(ours)


@reproduces_the_sdk
@pytest.mark.parametrize("limit", [1, 2, 5, 6, 7, 8, 12])
def test_a_traceback_limit_counts_the_frames_the_sdks_counts(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    monkeypatch.setattr(sys, "tracebacklimit", limit, raising=False)
    sdk, ours = _in_constructors()
    assert ours == sdk
    assert len(ours.frames) < limit


@reproduces_the_sdk
def test_a_traceback_limit_keeps_the_frames_below_the_constructors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "tracebacklimit", 12, raising=False)
    _, ours = _in_constructors()
    assert 0 < len(ours.frames) < 12


def test_a_capture_leaves_no_frame_behind() -> None:
    # A frame object of the capture's own, kept in a local, was a cycle holding every
    # frame above it, and their locals, until the next collection. (Only frames of this
    # test and of the capture are looked for: other threads may leave garbage meanwhile.)
    out: list[Traces] = []
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        _Concrete(lambda: (capture_stack_trace(), capture_stack_trace()), out)
        gc.collect()
        ours = {__file__, stack_traces.__file__}
        left = [o for o in gc.garbage if isinstance(o, FrameType) and o.f_code.co_filename in ours]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert left == []
    assert len(out[0][0].frames) > 3


class _TraceMonitor(RecordingMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.traces: dict[tuple[str, str], tuple[Any, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.traces[request.type, request.name] = (request.stackTrace, request.sourcePosition)
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.traces[request.type, request.name] = (request.stackTrace, request.sourcePosition)
        return super().ReadResource(request)  # pyright: ignore[reportUnknownMemberType]


def _traces(
    program: Callable[[], None], mocks: Callable[[], Any], *, sdk: bool
) -> dict[tuple[str, str], tuple[Any, Any]]:
    monitor = _TraceMonitor(mocks())
    run_offline(program, stack="dev", monitor=monitor, sdk_defaults=sdk)
    return monitor.traces


def _dev_stack() -> None:
    spec = load_stack_file(STACKS / "Pulumi.dev.yaml", registry=aws_registry())
    build_stack(spec, project_dir=REPO, registry=aws_registry())


class _Thing(pulumi.CustomResource):
    # Like a provider SDK's class: the third constructor from the top.
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Thing", name, {}, opts)


class _Component(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Component", name)
        _Thing(f"{name}-child", pulumi.ResourceOptions(parent=self))
        _Thing(f"{name}-read", pulumi.ResourceOptions(parent=self, id="i-1"))
        self.register_outputs({})


def _plain_resources() -> None:
    _Component("outer")
    [_Thing(f"listed-{i}") for i in range(2)]


@pytest.mark.parametrize(
    ("program", "mocks", "expected"),
    [(_dev_stack, AwsMocks, 55), (_plain_resources, EchoMocks, 5)],
    ids=["dev stack", "components, reads"],
)
def test_a_whole_program_sends_the_same_traces_either_way(
    program: Callable[[], None], mocks: Callable[[], Any], expected: int
) -> None:
    ours, sdk = [_traces(program, mocks, sdk=sdk) for sdk in (False, True)]  # one line: same frames
    assert ours == sdk
    created_by_the_program = [key for key in ours if key[0] != "pulumi:pulumi:Stack"]
    assert len(created_by_the_program) == expected
    assert all(len(ours[key][0].frames) > 3 for key in created_by_the_program)
    assert sdk_resource._get_stack_trace is SDK_CAPTURE  # pyright: ignore[reportPrivateUsage]


def test_an_offline_run_uses_the_capture_and_restores_the_sdks() -> None:
    seen: list[object] = []
    run_offline(lambda: seen.append(sdk_resource._get_stack_trace))  # pyright: ignore[reportPrivateUsage]
    run_offline(lambda: seen.append(sdk_resource._get_stack_trace), sdk_defaults=True)  # pyright: ignore[reportPrivateUsage]
    assert seen == [capture_stack_trace, SDK_CAPTURE]
    assert sdk_resource._get_stack_trace is SDK_CAPTURE  # pyright: ignore[reportPrivateUsage]


def test_installing_inside_an_offline_run_leaves_the_run_to_restore_it() -> None:
    installed: list[bool] = []
    run_offline(lambda: installed.append(stack_traces.install_fast_stack_traces()))
    assert installed == [True]
    assert sdk_resource._get_stack_trace is SDK_CAPTURE  # pyright: ignore[reportPrivateUsage]


def test_an_unverified_sdk_capture_is_left_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_traces, "VERIFIED_SDK_CAPTURES", {"0.0.0": "something else"})
    stack_traces._verified.cache_clear()  # pyright: ignore[reportPrivateUsage]
    with fast_stack_traces() as replaced:
        assert replaced is False
        assert sdk_resource._get_stack_trace is SDK_CAPTURE  # pyright: ignore[reportPrivateUsage]


def test_a_listed_sdk_version_has_the_digest_listed_with_it() -> None:
    listed = stack_traces.VERIFIED_SDK_CAPTURES.get(version("pulumi"))
    if listed is None:
        pytest.skip(f"pulumi {version('pulumi')} is not listed: verified by its digest")
    assert listed == DIGEST


def test_the_floor_sdk_is_listed() -> None:
    assert "3.272.0" in stack_traces.VERIFIED_SDK_CAPTURES


def test_an_unlisted_version_with_a_verified_capture_gets_the_capture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stack_traces, "VERIFIED_SDK_CAPTURES", {"0.0.0": DIGEST})
    stack_traces._verified.cache_clear()  # pyright: ignore[reportPrivateUsage]
    with fast_stack_traces() as replaced:
        assert replaced is True
        assert sdk_resource._get_stack_trace is capture_stack_trace  # pyright: ignore[reportPrivateUsage]


def test_the_program_process_keeps_the_capture_for_good() -> None:
    code = (
        "import pulumi.runtime.resource as sdk\n"
        "from mlops_infra.offline.stack_traces import fast_stack_traces, install_fast_stack_traces\n"
        "installed = install_fast_stack_traces()\n"
        "with fast_stack_traces():\n"
        "    pass\n"
        "print(installed, sdk._get_stack_trace.__name__)\n"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()
    assert printed == "True capture_stack_trace"
