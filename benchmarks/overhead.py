"""Abstraction overhead: the dev AWS stack from its spec vs the same stack written by hand.

Measured in one process, under the same mocks (``AwsMocks``, fresh per run), each side as
its own program process would run it:

* (a) the program ``pulumi up`` runs (``mlops_infra.program.main``): read the ``dev``
  stack config (``stacks/Pulumi.dev.yaml``), validate the spec, build ``MlopsStack``
  (components, backends, content hashing of the pipeline package), export the summary.
  Its process runs nothing else, so ``main`` gives it the program process's settings
  (``apply_program_settings``: automatic garbage collection off for the rest of it, the
  SDK's stack traces captured from frame objects, its check for unknown values without
  a reference cycle per call). Timed the same way here: collection stays off until the
  clock has stopped;
* (b) ``benchmarks/handwritten_aws.py``: the same stack as a plain ``pulumi_aws`` program,
  run as a plain Pulumi program runs (``run_offline(sdk_defaults=True)``): the
  interpreter's garbage collection, the SDK's own functions;
* (b') reported beside it: (b) with (a)'s process settings. (a)/(b') is what the
  component layer itself costs; (a)/(b), the headline, is what a user pays for the dev
  stack against writing it by hand.

Before timing, the script checks that both register the same provider resources (type and
name) and reports how many also have identical inputs, options and dependencies; the
component resources of (a) are its overhead. Then it alternates the three (ABBA order)
``--repeat`` times, after a garbage collection each, and reports the median wall time of a
whole offline run (program + mock engine), and the peak Python memory of each (tracemalloc,
in separate runs so tracing never slows the timed ones). ``--profile`` adds, from separate
instrumented runs, the time (a) and (b') spend in known places (program body, stack-trace
capture, invokes, pipeline versioning, spec validation; no collection runs during either)
and a cProfile of (a).

Run: ``.venv/bin/python benchmarks/overhead.py [--repeat N] [--quick] [--profile]``.
Ends with the headline line ``overhead_ratio: <time(a) / time(b)>`` (target <= 1.05).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pulumi  # noqa: E402

from benchmarks import handwritten_aws  # noqa: E402
from benchmarks._common import (  # noqa: E402
    STACKS,
    in_repo,
    machine,
    median,
    peak_memory,
)
from mlops_infra.backends.aws.testing import AwsMocks  # noqa: E402
from mlops_infra.offline import (  # noqa: E402
    ProgramRun,
    Registration,
    run_offline,
    stack_traces,
)
from mlops_infra.offline.collection import synthesis_policy  # noqa: E402
from mlops_infra.program import build_stack, read_spec  # noqa: E402
from mlops_infra.specs.loading import read_stack_file  # noqa: E402

STACK = "dev"
CONFIG = read_stack_file(STACKS / f"Pulumi.{STACK}.yaml")


def library_program() -> None:
    """``mlops_infra.program.main`` with the project folder given (mocks have no root folder).

    The dev stack names no secret config, so ``main``'s secrets are empty here too.
    """
    _program_body(lambda: build_stack(read_spec(), project_dir=REPO))


def handwritten_program() -> None:
    """The hand-written program (b)."""
    _program_body(lambda: handwritten_aws.program(REPO))


def _program_body(body: Callable[[], Any]) -> None:
    body()


def run_library() -> ProgramRun:
    """(a): the stack's program (config → spec → ``MlopsStack``), under ``AwsMocks``."""
    with in_repo():
        return run_offline(
            library_program, project="mlops", stack=STACK, config=CONFIG, mocks=AwsMocks()
        )


def run_handwritten() -> ProgramRun:
    """(b): the hand-written ``pulumi_aws`` program under ``AwsMocks``, as plain Pulumi runs it."""
    return run_offline(
        handwritten_program,
        project="mlops",
        stack=STACK,
        config=CONFIG,
        mocks=AwsMocks(),
        sdk_defaults=True,
    )


def run_handwritten_alike() -> ProgramRun:
    """(b'): the hand-written program under (a)'s process settings."""
    return run_offline(
        handwritten_program, project="mlops", stack=STACK, config=CONFIG, mocks=AwsMocks()
    )


SIDES: dict[str, tuple[Callable[[], ProgramRun], bool]] = {
    "a": (run_library, True),
    "b": (run_handwritten, False),
    "b'": (run_handwritten_alike, True),
}
"""Each side's run, and whether it runs as mlops-infra's program process does."""


@contextlib.contextmanager
def _process_settings(program_process: bool) -> Generator[None]:
    # ``run_offline`` turns collection back on at its end, and the first allocation after
    # that collects everything the synthesis left young (20-30 ms of a dev synthesis).
    # The program's process never turns it back on: here it stays off until the clock has
    # stopped (the next measurement's ``gc.collect`` starts from a clean heap again).
    with synthesis_policy() if program_process else contextlib.nullcontext():
        yield


def measure_time(side: str) -> float:
    """Seconds one run of ``side`` takes, after a full collection, as its process runs it."""
    run, program_process = SIDES[side]
    gc.collect()
    with _process_settings(program_process):
        started = time.perf_counter()
        run()
        return time.perf_counter() - started


def measure_peak(side: str) -> float:
    """Peak bytes Python allocates in one run of ``side`` (tracemalloc), as its process runs it."""
    run, program_process = SIDES[side]
    with _process_settings(program_process):
        return float(peak_memory(run))


def _plain(value: Any) -> Any:
    if isinstance(value, pulumi.FileAsset):
        return f"FileAsset({value.path})"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    if isinstance(value, list):
        return [_plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _leaf(urn: str) -> tuple[str, str]:
    """``(type, name)`` of a URN, without its parent chain."""
    qualified, _, name = urn.rpartition("::")
    return qualified.rsplit("::", 1)[-1].rsplit("$", 1)[-1], name


def _identity(registration: Registration) -> dict[str, Any]:
    return {
        "inputs": _plain(registration.plain_inputs()),
        "options": (
            registration.protect,
            registration.retain_on_delete,
            sorted(registration.replace_on_changes),
            sorted(registration.ignore_changes),
            sorted(registration.additional_secret_outputs),
            registration.delete_before_replace,
            registration.provider,
        ),
        "dependencies": sorted(
            _leaf(urn) for urn in registration.depends_on if "$mlops:index:" not in urn
        ),
    }


def compare(library: ProgramRun, handwritten: ProgramRun) -> dict[str, list[str]]:
    """Checks both runs register the same provider resources; returns what else differs.

    Raises:
        SystemExit: the ``(type, name)`` sets differ (the comparison would not be fair).
    """
    ours = {(r.type, r.name): r for r in library.registrations if r.custom}
    theirs = {(r.type, r.name): r for r in handwritten.registrations if r.custom}
    if set(ours) != set(theirs):
        missing = sorted(set(ours) - set(theirs))
        extra = sorted(set(theirs) - set(ours))
        sys.exit(f"not the same resources: only in (a) {missing}; only in (b) {extra}")
    differences: dict[str, list[str]] = {"inputs": [], "options": [], "dependencies": []}
    for key, registration in ours.items():
        mine, other = _identity(registration), _identity(theirs[key])
        for aspect, found in differences.items():
            if mine[aspect] != other[aspect]:
                found.append(f"{key[0]} {key[1]}")
    differences["stack outputs"] = (
        [] if _plain(library.outputs) == _plain(handwritten.outputs) else ["stack outputs"]
    )
    return differences


def _profile(function: Callable[[], Any], repeat: int) -> str:
    profiler = cProfile.Profile()
    for _ in range(repeat):
        gc.collect()
        profiler.enable()
        function()
        profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(12)
    stats.sort_stats("cumulative").print_stats("mlops_infra", 25)
    return text.getvalue()


@contextlib.contextmanager
def _instrumented(totals: dict[str, float]) -> Generator[None]:
    """Adds the seconds (or counts) of a few known costs of a run to ``totals``."""
    import pulumi.runtime.resource as sdk
    from pulumi.runtime import mocks

    import mlops_infra.resources.pipeline as pipeline_module

    def timing(owner: Any, attribute: str, key: str) -> Callable[[], None]:
        original = getattr(owner, attribute)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[key] = totals.get(key, 0.0) + time.perf_counter() - started

        setattr(owner, attribute, wrapper)
        return lambda: setattr(owner, attribute, original)

    undo = [
        timing(sdk, "_get_stack_trace", "stack trace captured per registration"),
        # What run_offline puts in the SDK's place while (a) and (b') run.
        timing(
            stack_traces._SWAP,  # pyright: ignore[reportPrivateUsage]
            "replacement",
            "stack trace captured per registration",
        ),
        timing(pipeline_module, "pipeline_manifest", "pipeline versioning (content hash)"),
        timing(sys.modules[__name__], "read_spec", "config -> validated spec"),
        timing(mocks.MockMonitor, "Invoke", "invokes (mocked)"),
        timing(sys.modules[__name__], "_program_body", "program body (synchronous part)"),
    ]
    try:
        yield
    finally:
        for restore in undo:
            restore()


def attribution(repeat: int) -> None:
    """Prints where the time of (a) and (b') goes, per run (separate, instrumented runs).

    (b') and not (b): the same process settings on both sides leave what the component
    layer adds.
    """
    rows: dict[str, dict[str, float]] = {}
    for side in ("a", "b'"):
        totals: dict[str, float] = {}
        walls: list[float] = []
        with _instrumented(totals):
            for _ in range(repeat):
                walls.append(measure_time(side))
        rows[side] = {key: value / repeat for key, value in totals.items()}
        rows[side]["whole run"] = sum(walls) / repeat
    print("where the time goes (instrumented, mean ms per run):      (a)     (b')   a - b'")
    for key in sorted(set(rows["a"]) | set(rows["b'"]), key=lambda k: -rows["a"].get(k, 0.0)):
        a, b = rows["a"].get(key, 0.0) * 1000, rows["b'"].get(key, 0.0) * 1000
        print(f"  {key:<52} {a:8.1f} {b:8.1f} {a - b:8.1f}")


def _alternate(
    sides: Sequence[str], repeat: int, measure: Callable[[str], float]
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {side: [] for side in sides}
    for attempt in range(repeat):
        order = sides if attempt % 2 == 0 else sides[::-1]  # ABBA: no side always goes first
        for side in order:
            results[side].append(measure(side))
    return results


def _ratio_line(label: str, times: Mapping[str, list[float]], top: str, bottom: str) -> str:
    pairs = sorted(a / b for a, b in zip(times[top], times[bottom], strict=True))
    quartiles = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else [pairs[0]] * 3
    return (
        f"{label}: {median(times[top]) / median(times[bottom]):.2f} (medians); per ABBA "
        f"pair: median {median(pairs):.2f}, quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}; "
        f"best-of: {min(times[top]) / min(times[bottom]):.2f}"
    )


def main_benchmark() -> None:
    """Runs the measurement and prints the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=31, help="timed runs of each (median)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 repetitions")
    parser.add_argument("--profile", action="store_true", help="print where (a) spends its time")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    print(f"machine: {machine()}")

    warm = {side: run() for side, (run, _) in SIDES.items()}  # imports, registry, caches
    custom = sum(1 for r in warm["a"].registrations if r.custom)
    components = len(warm["a"].registrations) - custom
    print(f"stack {STACK}: {custom} provider resources in both; (a) adds {components} components")
    for other in ("b", "b'"):
        for aspect, found in compare(warm["a"], warm[other]).items():
            status = "identical" if not found else f"{len(found)} differ: {found}"
            print(f"  ({other}) {aspect}: {status}")

    sides = list(SIDES)
    times = _alternate(sides, repeat, measure_time)
    peaks = _alternate(sides, min(repeat, 5), measure_peak)
    labels = {
        "a": "(a) mlops-infra components, program process settings",
        "b": "(b) hand-written pulumi_aws, plain Pulumi",
        "b'": "(b') hand-written pulumi_aws, (a)'s settings",
    }
    for side, label in labels.items():
        seconds = median(times[side])
        print(
            f"{label}: {seconds * 1000:.1f} ms (median of {repeat}; "
            f"best {min(times[side]) * 1000:.1f}), {seconds / custom * 1e6:.0f} us per "
            f"provider resource, peak memory {median(peaks[side]) / 2**20:.2f} MiB"
        )
    print(_ratio_line("time ratio a/b", times, "a", "b"))
    print(_ratio_line("time ratio a/b' (the component layer alone)", times, "a", "b'"))
    print(f"memory ratio (peak a / peak b): {median(peaks['a']) / median(peaks['b']):.2f}")
    if args.profile:
        attribution(repeat)
        print(_profile(run_library, repeat))
    print(f"overhead_ratio: {median(times['a']) / median(times['b']):.2f}")


if __name__ == "__main__":
    main_benchmark()
