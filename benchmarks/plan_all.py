"""Plan of the whole repository: ``mlops-infra plan`` over every stack in ``stacks/``.

Two ways, both measured here, stack by stack, ``--repeat`` times (median):

* subprocess: ``mlops-infra plan --stack NAME --out FILE`` in a fresh interpreter per stack,
  exactly what CI runs for a pull request (interpreter start, imports of the stack's cloud
  SDK submodules, spec validation, synthesis under mocks, JSON written);
* in-process: ``plan_named_stack`` + ``dump_plan`` for every stack in one warm process, after
  one untimed pass (imports done): the cost of planning alone.

Run: ``.venv/bin/python benchmarks/plan_all.py [--repeat N] [--quick]``.
Ends with the headline line ``plan_all_seconds: <total subprocess wall time, all stacks>``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import child_env, in_repo, machine, median, timed  # noqa: E402
from mlops_infra.cli.plan_cmd import plan_named_stack, stack_names  # noqa: E402
from mlops_infra.plan.model import dump_plan  # noqa: E402

CLI = [sys.executable, "-m", "mlops_infra.cli"]


def plan_subprocess(stack: str, out: Path) -> float:
    """Wall seconds of ``mlops-infra plan --stack <stack>`` in a fresh interpreter."""
    started = time.perf_counter()
    done = subprocess.run(
        [*CLI, "plan", "--stack", stack, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env=child_env(),
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"mlops-infra plan --stack {stack} failed:\n{done.stderr[-3000:]}")
    return elapsed


def plan_in_process(stack: str) -> int:
    """Plans ``stack`` in this process; returns how many resources the plan holds."""
    with in_repo():
        plan = plan_named_stack(stack, REPO)
        dump_plan(plan)
    return len(plan.resources)


def main() -> None:
    """Runs the measurement and prints the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per stack (median)")
    parser.add_argument("--quick", action="store_true", help="smoke run: two stacks, once")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    print(f"machine: {machine()}")
    stacks = stack_names(REPO)
    if args.quick:
        stacks = [s for s in stacks if s in ("local", "dev")] or stacks[:2]
    print(f"stacks: {', '.join(stacks)}")

    sizes = {stack: plan_in_process(stack) for stack in stacks}  # warm-up and sizes
    warm: dict[str, list[float]] = {stack: [] for stack in stacks}
    cold: dict[str, list[float]] = {stack: [] for stack in stacks}
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as folder:
        for stack in stacks:  # warm the bytecode caches of each stack's imports
            plan_subprocess(stack, Path(folder) / f"{stack}.json")
        for _ in range(repeat):
            for stack in stacks:
                cold[stack].append(plan_subprocess(stack, Path(folder) / f"{stack}.json"))
                warm[stack].append(timed(lambda stack=stack: plan_in_process(stack)))
    print(f"{'stack':<12} {'resources':>9} {'subprocess s':>12} {'in-process ms':>14}")
    for stack in stacks:
        print(f"{stack:<12} {sizes[stack]:>9} {median(cold[stack]):>12.2f} "
              f"{median(warm[stack]) * 1000:>14.0f}")  # fmt: skip
    total_cold = sum(median(cold[s]) for s in stacks)
    total_warm = sum(median(warm[s]) for s in stacks)
    resources = sum(sizes.values())
    print(f"{'total':<12} {resources:>9} {total_cold:>12.2f} {total_warm * 1000:>14.0f}")
    print(f"subprocess total: {total_cold:.1f} s for {len(stacks)} stacks "
          f"(median of {repeat} each); in one warm process: {total_warm:.2f} s")  # fmt: skip
    print(f"plan_all_seconds: {total_cold:.1f}")


if __name__ == "__main__":
    main()
