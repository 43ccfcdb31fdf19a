"""Pulumi's per-registration stack trace, captured without reading source files.

The Python SDK sends the engine the call stack of every resource registration
(``RegisterResourceRequest.stackTrace``: a file URI and a line per frame, plus the
topmost as ``sourcePosition``). It builds that with ``traceback.extract_stack``, which
for every frame of the stack also looks up the source line (``linecache``: a ``stat`` of
each file, per registration) that the trace never carries, and converts each file name
to a URI through ``pathlib``. That was 13 % of the instructions of the dev stack's
synthesis under mocks, about 95,000 per frame, and every frame a component layer adds
pays it again for each resource created below it (``benchmarks/README.md``).

:func:`capture_stack_trace` builds the same message from the frame objects: the same
frames, URIs and lines, each frame's message built once per file and line, no file
reads. :func:`fast_stack_traces` (a block) and :func:`install_fast_stack_traces` (the
rest of the process) put it in place of the SDK's ``_get_stack_trace``, only when the
SDK's capture is one it was checked against (:data:`VERIFIED_SDK_CAPTURES`); otherwise
the SDK's own capture stays. A change in the SDK's capture therefore never changes what
is sent: it only turns the speed-up off until someone checks the new capture and adds
it.
"""

from __future__ import annotations

import contextlib
import functools
import pathlib
import sys
from collections.abc import Callable, Mapping
from types import FrameType

import pulumi.runtime.resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from mlops_infra.offline.sdk_swap import SdkSwap, listed_sdk, source_digest

__all__ = [
    "VERIFIED_SDK_CAPTURES",
    "capture_stack_trace",
    "fast_stack_traces",
    "install_fast_stack_traces",
    "sdk_capture_digest",
]

VERIFIED_SDK_CAPTURES: Mapping[str, str] = {
    "3.272.0": "0d11a1e45eee",  # the floor in pyproject.toml
}
"""SDK versions whose capture :func:`capture_stack_trace` reproduces, with its digest.

The digest (:func:`sdk_capture_digest`) is a SHA-256 prefix of the source of
``pulumi.runtime.resource._get_stack_trace`` and ``_get_source_position_for_frame``, the
two functions that decide what the trace holds. A listed version is taken as is (a
released version's source does not change; a test checks the digest of the installed
one); any other version is verified by its digest, which reads the SDK's source (2-3 ms,
once per process).
"""

_CAPTURE_SOURCES = ("_get_stack_trace", "_get_source_position_for_frame")
_CONSTRUCTOR_DEPTH = 3
"""``Resource``, then ``CustomResource`` or ``ComponentResource``, then the concrete class."""

_frames: dict[tuple[str, int | None], source_pb2.StackFrame] = {}
"""Each frame's message by file name and line (a trace copies the messages it is given)."""
_sdk_capture: Callable[[], source_pb2.StackTrace] = sdk_resource._get_stack_trace  # pyright: ignore[reportPrivateUsage]


def sdk_capture_digest() -> str:
    """The digest of the installed SDK's capture (see :data:`VERIFIED_SDK_CAPTURES`)."""
    return source_digest(sdk_resource, _CAPTURE_SOURCES)


def _uri(filename: str) -> str | None:
    # The SDK's conversion (a pure function of the name).
    try:
        return pathlib.Path(filename).as_uri()
    except BaseException:  # the SDK drops the position on any failure
        return None


def _frame(frame: FrameType) -> source_pb2.StackFrame:
    key = (frame.f_code.co_filename, frame.f_lineno)
    try:
        return _frames[key]
    except KeyError:
        pass
    filename, line = key
    uri = _uri(filename) if filename and line is not None else None
    position = None
    if uri is not None and line is not None:
        position = source_pb2.SourcePosition(uri=uri, line=line)
    message = _frames[key] = source_pb2.StackFrame(pc=position)
    return message


def capture_stack_trace() -> source_pb2.StackTrace:
    """The stack trace the SDK would send for the registration being made.

    The frames below the resource's third ``__init__`` from the top (the concrete
    resource class's), innermost first, each as the file's URI and the line; an empty
    trace when there is no such frame. With ``sys.tracebacklimit`` set, only that many
    frames are looked at, counted from this function's frame (the SDK's from its own).
    """
    limit: int | None = getattr(sys, "tracebacklimit", None)
    if limit is not None and limit <= 0:
        return _sdk_capture()  # what the SDK does then is its own business
    # From the caller: this function's frame is never in a trace, and a frame object of
    # its own, kept in a local, would be a reference cycle holding every frame above it
    # (and their locals) until the next collection.
    stack: list[FrameType] = []  # innermost first
    frame: FrameType | None = sys._getframe(1)  # pyright: ignore[reportPrivateUsage] - the cheap frame walk
    while frame is not None and (limit is None or len(stack) < limit - 1):
        stack.append(frame)
        frame = frame.f_back
    constructors = 0
    for index, candidate in enumerate(stack):
        if candidate.f_code.co_name == "__init__":
            constructors += 1
            if constructors == _CONSTRUCTOR_DEPTH:
                return source_pb2.StackTrace(frames=[_frame(f) for f in stack[index + 1 :]])
    return source_pb2.StackTrace()


@functools.cache
def _verified() -> bool:
    return listed_sdk(VERIFIED_SDK_CAPTURES, sdk_capture_digest)


_SWAP = SdkSwap(sdk_resource, "_get_stack_trace", capture_stack_trace, _verified)


def install_fast_stack_traces() -> bool:
    """Uses :func:`capture_stack_trace` for the rest of the process, if verified.

    For the program's own process (``pulumi up`` runs it in a process of its own). Inside
    :func:`fast_stack_traces` (a program run offline) it changes nothing: the block puts
    back what it replaced, as :func:`~mlops_infra.offline.collection.apply_synthesis_policy`
    leaves collection to :func:`~mlops_infra.offline.collection.synthesis_policy`.
    Returns whether the capture is in place.
    """
    return _SWAP.install()


def fast_stack_traces() -> contextlib.AbstractContextManager[bool]:
    """Uses :func:`capture_stack_trace` for a block, if verified; yields whether it does.

    Where it is in place already (installed for the process, or an outer block), it stays.
    """
    return _SWAP.block()
