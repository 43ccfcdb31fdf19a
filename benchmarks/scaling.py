"""Scaling with stack size: time and peak memory per registered resource, from 10 to 4,000.

Stacks of N pipelines and N endpoints (each endpoint gated on its own pipeline's model; each
pipeline the four-step ``diagnosis`` DAG over the bundled dataset, so every one is content-
hashed like a real one) are validated from their spec and synthesized under mocks, in one
process, smallest first, each size ``--repeat`` times:

* the fake cloud (``mlops_infra.testing.fake_registry()``): N = 10 ... 1,000, i.e. about 40
  to 4,000 registrations (a component and one provider resource per pipeline or endpoint);
* AWS (``AwsMocks``): N = 1 ... 90, i.e. about 40 to 2,000 registrations of real
  ``pulumi_aws`` resources (about 22 per pipeline and endpoint);
* a control with no mlops-infra code in the loop: a flat program registering as many plain
  ``FakeResource`` as the fake-cloud stack registers resources, to show what the Pulumi SDK
  itself costs per resource at each size.

Reported per size: time (median), time per registered resource, the share of it spent in
Python's cyclic garbage collector (``gc.callbacks``), and peak Python memory (tracemalloc, in
a separate run). Per series: the least-squares slope of time vs resources (the marginal
cost of one more resource) and the ratio of the per-resource time at ~2,000 resources to
that at ~100 (target: within 0.8-1.2, i.e. flat within +-20 %).

Run: ``.venv/bin/python benchmarks/scaling.py [--repeat N] [--quick] [--no-memory]``.
Ends with the headline line ``scaling_ratio: <per-resource time at ~2,000 / at ~100>``
(fake cloud, which has the sizes the issue names).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import least_squares, machine, median, peak_memory  # noqa: E402
from mlops_infra.backends.aws.plugin import register as register_aws  # noqa: E402
from mlops_infra.backends.aws.testing import AwsMocks  # noqa: E402
from mlops_infra.offline import run_offline  # noqa: E402
from mlops_infra.registry import Registry  # noqa: E402
from mlops_infra.specs import StackSpec  # noqa: E402
from mlops_infra.testing import FakeResource, fake_registry, run_stack  # noqa: E402

FAKE_SIZES = (10, 25, 100, 250, 500, 1000)
AWS_SIZES = (1, 4, 10, 45, 90)
QUICK_SIZES = (2, 5)
STEPS: list[dict[str, Any]] = [
    {"name": "featurize", "component": "diagnosis.featurize"},
    {"name": "train", "component": "diagnosis.train", "depends_on": ["featurize"]},
    {"name": "evaluate", "component": "diagnosis.evaluate", "depends_on": ["train"]},
    {"name": "register", "component": "diagnosis.register", "depends_on": ["evaluate"]},
]
DATA = {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}}


def stack_fields(cloud: str, size: int) -> dict[str, Any]:
    """A stack of ``size`` pipelines and ``size`` endpoints, each gated on its pipeline."""
    return {
        "cloud": cloud,
        "environment": "dev",
        "pipelines": [{"name": f"p{i}", "data": DATA, "steps": STEPS} for i in range(size)],
        "endpoints": [
            {"name": f"e{i}", "model": f"p{i}",
             "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]}}
            for i in range(size)
        ],
    }  # fmt: skip


class GcClock:
    """Accumulates the time Python's cyclic garbage collector runs."""

    def __init__(self) -> None:
        """Installs the callback."""
        self.total = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started


@dataclass
class Point:
    """One size of one series."""

    size: int
    resources: int
    times: list[float] = field(default_factory=list[float])
    gc_times: list[float] = field(default_factory=list[float])
    peak: int | None = None

    @property
    def time(self) -> float:
        """Median seconds."""
        return median(self.times)

    @property
    def per_resource(self) -> float:
        """Median seconds per registered resource."""
        return self.time / self.resources

    @property
    def per_resource_without_gc(self) -> float:
        """Median seconds per registered resource, garbage collection excluded."""
        return median([t - g for t, g in zip(self.times, self.gc_times, strict=True)]) / (
            self.resources
        )


def _aws_registry() -> Registry:
    registry = Registry(load_entry_points=False)
    registry.install("aws", register_aws)
    return registry


def series_runner(cloud: str) -> Callable[[int], int]:
    """Returns ``run(size) -> registrations`` for one series (spec validation included)."""
    if cloud == "raw":

        def raw(size: int) -> int:
            def program() -> None:
                for index in range(size):
                    FakeResource(
                        "Pipeline",
                        f"r{index}",
                        {"version": "0123456789abcdef", "steps": [s["name"] for s in STEPS]},
                    )

            return len(run_offline(program, stack="dev").registrations)

        return raw
    registry = fake_registry() if cloud == "fake" else _aws_registry()

    def stack(size: int) -> int:
        spec = StackSpec.model_validate(stack_fields(cloud, size), context={"registry": registry})
        mocks = AwsMocks() if cloud == "aws" else None
        run = run_stack(spec, registry=registry, project_dir=REPO, stack="dev", mocks=mocks)
        return len(run.registrations)

    return stack


def measure(
    name: str, run: Callable[[int], int], sizes: tuple[int, ...], repeat: int, memory: bool
) -> list[Point]:
    """Runs each size ``repeat`` times (and once under tracemalloc), printing a row per size."""
    clock = GcClock()
    run(sizes[0])  # warm-up: imports, registry, caches
    points: list[Point] = []
    print(f"\n{name}")
    print(f"{'N':>6} {'resources':>9} {'time ms':>9} {'us/res':>8} {'us/res w/o GC':>13} "
          f"{'GC %':>5} {'peak MiB':>9} {'KiB/res':>8}")  # fmt: skip
    for size in sizes:
        point = Point(size=size, resources=0)
        for _ in range(repeat):
            gc.collect()
            clock.total = 0.0
            started = time.perf_counter()
            point.resources = run(size)
            point.times.append(time.perf_counter() - started)
            point.gc_times.append(clock.total)
        if memory:
            point.peak = peak_memory(lambda size=size: run(size))
        gc_share = median(point.gc_times) / point.time * 100
        peak = (
            f"{point.peak / 2**20:9.1f} {point.peak / 1024 / point.resources:8.1f}"
            if point.peak
            else ""
        )
        print(f"{size:>6} {point.resources:>9} {point.time * 1000:>9.0f} "
              f"{point.per_resource * 1e6:>8.0f} {point.per_resource_without_gc * 1e6:>13.0f} "
              f"{gc_share:>5.0f} {peak}", flush=True)  # fmt: skip
        points.append(point)
    gc.callbacks.remove(clock._callback)  # pyright: ignore[reportPrivateUsage]
    return points


def _nearest(points: list[Point], resources: int) -> Point:
    return min(points, key=lambda p: abs(p.resources - resources))


def summarize(name: str, points: list[Point]) -> float:
    """Prints the slope and the ~2,000 / ~100 per-resource ratio; returns that ratio."""
    if len({p.resources for p in points}) < 2:
        print(f"{name}: one size only, no slope")
        return 1.0
    slope, intercept = least_squares([p.resources for p in points], [p.time for p in points])
    small, large = _nearest(points, 100), _nearest(points, 2000)
    ratio = large.per_resource / small.per_resource
    without_gc = large.per_resource_without_gc / small.per_resource_without_gc
    print(f"{name}: slope {slope * 1e6:.0f} us per resource (least squares of time vs "
          f"resources), intercept {intercept * 1000:.0f} ms")  # fmt: skip
    print(f"{name}: per-resource time at {large.resources} / at {small.resources} resources: "
          f"{ratio:.2f} ({without_gc:.2f} without garbage collection)")  # fmt: skip
    if len(points) > 1:
        last, first = points[-1], points[0]
        print(f"{name}: per-resource time at {last.resources} / at {first.resources}: "
              f"{last.per_resource / first.per_resource:.2f}")  # fmt: skip
    return ratio


def main() -> None:
    """Runs the measurement and prints the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median)")
    parser.add_argument("--quick", action="store_true", help="smoke run: two tiny sizes, once")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    print(f"machine: {machine()}")
    fake_sizes = QUICK_SIZES if args.quick else FAKE_SIZES
    aws_sizes = (1, 2) if args.quick else AWS_SIZES
    memory = not args.no_memory
    fake = measure("fake cloud (mlops-infra components)", series_runner("fake"), fake_sizes,
                   repeat, memory)  # fmt: skip
    raw_sizes = tuple(p.resources for p in fake)
    raw = measure("control: plain FakeResource registrations, no mlops-infra code",
                  series_runner("raw"), raw_sizes, repeat, memory)  # fmt: skip
    aws = measure("aws (AwsMocks, real pulumi_aws resources)", series_runner("aws"), aws_sizes,
                  repeat, memory)  # fmt: skip
    print()
    ratio = summarize("fake", fake)
    summarize("control", raw)
    summarize("aws", aws)
    print(f"scaling_ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
