"""Import cost: starting the dev AWS stack's program vs importing only what it needs of pulumi_aws.

Each measurement is a fresh interpreter (``subprocess``), with warm bytecode caches (every
variant runs once, untimed, before the timed runs), alternating the variants:

* (a) program start: ``pulumi`` (the language host imports it before it runs
  ``__main__.py``), what ``__main__.py`` imports (``mlops_infra.program``), then what
  ``main()`` does before its first resource: the garbage-collection policy of the program's
  process and its stack-trace capture (which reads the SDK's capture source to verify it),
  the stack file read and validated, and the backend of every concept the ``dev``
  spec uses loaded through the registry, as ``build_stack`` does; then every ``pulumi_aws``
  resource class the stack registers is looked up, as the backends do at their first
  resource (``pulumi_aws.x`` is lazy: the program pays for it then);
* (b) the floor, a hand-written program's imports: ``import pulumi, pulumi_aws`` and the
  same resource classes looked up, nothing else. A subpackage of ``pulumi_aws`` loads whole
  on its first lookup;
* (b') reported beside it: (b) with the SDK's subpackages resolving names one module at a
  time, as (a) does since ``mlops_infra.registry.resolve_sdk_names_on_demand`` (loaded from
  its file alone, without the package). (a)/(b') is what mlops-infra itself adds to a
  start; (a)/(b), the headline, compares with the program a user would write by hand.

Which classes "the stack registers" is not hard-coded: a discovery run synthesizes the
whole dev stack under mocks in a fresh interpreter and lists the resource types it
registered, the ``pulumi_aws`` submodules that got loaded, and every cloud SDK package in
``sys.modules`` (only ``pulumi_aws`` may appear). Reported: the wall time of each process
(interpreter start to exit) and the time the imports take inside it; the ratio uses the
latter (the interpreter's own start-up is the same for both and would only dilute it).
``--importtime`` adds the slowest imports of (a) that (b) does not have
(``python -X importtime``).

Run: ``.venv/bin/python benchmarks/imports.py [--repeat N] [--quick] [--importtime]``.
Ends with the headline line ``import_ratio: <import time (a) / import time (b)>`` (target <= 1.10).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import child_env, machine, median  # noqa: E402

STACK_FILE = "stacks/Pulumi.dev.yaml"
CLOUD_SDKS = (
    "pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_kubernetes",
    "boto3", "botocore", "google.cloud", "googleapiclient", "azure",
)  # fmt: skip
"""Packages that count as a cloud SDK (``google.protobuf``, used by Pulumi's RPC, does not)."""

HEAVY = ("sklearn", "numpy", "scipy", "pandas", "mlflow", "sqlalchemy")
"""Large packages a program start should not need (reported when a synthesis imports them)."""

_LOADED = """
import gc, json, sys, time as _time
_gc = {"s": 0.0, "n": 0, "at": 0.0}
def _collected(phase, info):
    if phase == "start":
        _gc["at"] = _time.perf_counter()
    else:
        _gc["s"] += _time.perf_counter() - _gc["at"]
        _gc["n"] += 1
gc.callbacks.append(_collected)
def loaded_submodules():
    # Loaded whole (a plain module) or in part (some of its modules imported by name).
    parts = {n.split(".")[1] for n in list(sys.modules)
             if n.startswith("pulumi_aws.") and n.count(".") > 1}
    return sorted(
        name.split(".", 1)[1] for name, module in list(sys.modules.items())
        if name.startswith("pulumi_aws.") and name.count(".") == 1
        and not name.split(".")[1].startswith("_") and hasattr(module, "__path__")
        and (type(module) is type(sys) or name.split(".")[1] in parts)
    )
def cloud_sdks():
    return sorted(p for p in CLOUD_SDKS if p in sys.modules)
def report(elapsed):
    print(json.dumps({"import_s": elapsed, "gc_s": _gc["s"], "collections": _gc["n"],
                      "loaded": loaded_submodules(), "sdks": cloud_sdks()}))
"""

_PROGRAM_START = """
import time
started = time.perf_counter()
import pulumi  # imported by the language host before it runs __main__.py
import mlops_infra.program  # what __main__.py imports
mlops_infra.program.apply_program_settings()  # what main() does first
import importlib
from pathlib import Path
from mlops_infra.registry import default_registry
from mlops_infra.specs.loading import load_stack_file

spec = load_stack_file(Path(STACK_FILE))
registry = default_registry()
kinds = [("foundation", None), ("artifact_store", spec.artifact_store.flavor),
         ("tracking_server", spec.tracking.flavor)]
kinds += [("training_cluster", c.flavor) for c in spec.clusters]
kinds += [("training_job", j.flavor) for j in spec.jobs]
kinds += [("pipeline", p.flavor) for p in spec.pipelines]
kinds += [("serving_endpoint", e.flavor) for e in spec.endpoints]
for kind, flavor in kinds:
    registry.load(registry.flavor(spec.cloud, kind, flavor))
for submodule, name in NAMES:  # each backend's first resource looks its class up
    getattr(importlib.import_module("pulumi_aws." + submodule), name)
report(time.perf_counter() - started)
"""

_FLOOR = """
import time
started = time.perf_counter()
import importlib
import pulumi
import pulumi_aws
for submodule, name in NAMES:  # the subpackage loads whole at its first lookup
    getattr(importlib.import_module("pulumi_aws." + submodule), name)
report(time.perf_counter() - started)
"""

_FLOOR_BY_NAME = """
import time
started = time.perf_counter()
import importlib, importlib.util
import pulumi
import pulumi_aws
spec = importlib.util.spec_from_file_location("sdk_names", SDK_NAMES_FILE)
sdk_names = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sdk_names)
sdk_names.resolve_sdk_names_on_demand()
for submodule, name in NAMES:  # imports the class's own module only
    getattr(importlib.import_module("pulumi_aws." + submodule), name)
report(time.perf_counter() - started)
"""

_SYNTHESIZE = """
import json
from pathlib import Path
from mlops_infra.backends.aws.testing import AwsMocks
from mlops_infra.offline import run_offline
from mlops_infra.program import build_stack, read_spec
from mlops_infra.specs.loading import read_stack_file

run = run_offline(
    lambda: build_stack(read_spec(), project_dir=Path.cwd()),
    project="mlops", stack="dev", config=read_stack_file(Path(STACK_FILE)), mocks=AwsMocks(),
)
types = sorted({r.type for r in run.registrations if r.custom})
heavy = sorted(p for p in HEAVY if p in sys.modules)
print(json.dumps({"loaded": loaded_submodules(), "sdks": cloud_sdks(), "types": types,
                  "heavy": heavy}))
"""


SDK_NAMES_FILE = str(REPO / "mlops_infra" / "registry" / "_sdk_names.py")


def _code(body: str, names: list[tuple[str, str]]) -> str:
    constants = {
        "CLOUD_SDKS": CLOUD_SDKS,
        "HEAVY": HEAVY,
        "STACK_FILE": STACK_FILE,
        "SDK_NAMES_FILE": SDK_NAMES_FILE,
        "NAMES": names,
    }
    header = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    return header + _LOADED + body


def run_child(
    body: str, names: list[tuple[str, str]], *, importtime: bool = False
) -> tuple[float, dict[str, Any], str]:
    """Runs ``body`` in a fresh interpreter; returns its wall time, its JSON line, its stderr."""
    command = [sys.executable, "-W", "ignore::DeprecationWarning"]
    if importtime:
        command += ["-X", "importtime"]
    command += ["-c", _code(body, names)]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, check=False, env=child_env()
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def discover() -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Synthesizes the dev stack in a fresh interpreter.

    Returns the ``pulumi_aws`` classes it registered (submodule, class), the submodules it
    loaded, and the cloud SDKs seen.
    """
    _, found, _ = run_child(_SYNTHESIZE, [])
    names = sorted(
        {
            (t.split(":")[1].split("/")[0], t.split(":")[2])
            for t in found["types"]
            if t[:4] == "aws:"
        }
    )
    used_by_types = sorted({submodule for submodule, _ in names})
    print(f"dev stack registers types from pulumi_aws modules: {', '.join(used_by_types)}")
    heavy = ", ".join(found["heavy"]) or "none"
    print(f"large non-SDK packages a full synthesis imports ({', '.join(HEAVY)}): {heavy}")
    return names, list(found["loaded"]), list(found["sdks"])


def _importtime(stderr: str) -> dict[str, int]:
    """``-X importtime``: self microseconds of every module imported."""
    result: dict[str, int] = {}
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| (.*)$", line)
        if match:
            result[match.group(2).strip()] = int(match.group(1))
    return result


def extra_imports(stderr_a: str, stderr_b: str) -> list[tuple[float, str, int]]:
    """What only (a) imports, not (b'): ``(self ms, package, modules)``, slowest first."""
    only_a = {k: v for k, v in _importtime(stderr_a).items() if k not in _importtime(stderr_b)}
    packages: dict[str, list[int]] = {}
    for module, microseconds in only_a.items():
        parts = module.split(".")
        top = parts[0]
        if top == "mlops_infra":  # by subpackage (backends: by cloud)
            top = ".".join(parts[:3] if parts[1:2] == ["backends"] else parts[:2])
        packages.setdefault(top, []).append(microseconds)
    return sorted(((sum(v) / 1000, k, len(v)) for k, v in packages.items()), reverse=True)


def main() -> None:
    """Runs the measurement and prints the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="timed runs of each (median)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 repetitions")
    parser.add_argument("--importtime", action="store_true", help="list what (a) adds")
    args = parser.parse_args()
    repeat = 2 if args.quick else args.repeat
    print(f"machine: {machine()}")

    names, submodules, sdks = discover()
    print(f"pulumi_aws submodules loaded by a full synthesis: {', '.join(submodules)}")
    print(f"cloud SDK packages in sys.modules after a full synthesis: {', '.join(sdks)}")
    variants = {"a": _PROGRAM_START, "b": _FLOOR, "b'": _FLOOR_BY_NAME}
    for body in variants.values():  # warm the bytecode caches
        run_child(body, names)
    walls: dict[str, list[float]] = {name: [] for name in variants}
    imports: dict[str, list[float]] = {name: [] for name in variants}
    collection: dict[str, list[float]] = {name: [] for name in variants}
    seen: dict[str, dict[str, Any]] = {}
    order = list(variants)
    for attempt in range(repeat):
        for name in order if attempt % 2 == 0 else order[::-1]:
            wall, found, _ = run_child(variants[name], names)
            walls[name].append(wall)
            imports[name].append(float(found["import_s"]))
            collection[name].append(float(found["gc_s"]))
            seen[name] = found
    for name, label in (
        ("a", "(a) program start"),
        ("b", "(b) pulumi + used pulumi_aws"),
        ("b'", "(b') the same, classes imported by name"),
    ):
        print(f"{label}: process {median(walls[name]) * 1000:.0f} ms, imports "
              f"{median(imports[name]) * 1000:.0f} ms (median of {repeat}), of which garbage "
              f"collection {median(collection[name]) * 1000:.0f} ms ({seen[name]['collections']} "
              f"collections); cloud SDKs: {', '.join(seen[name]['sdks'])}")  # fmt: skip
    others = [sdk for sdk in seen["a"]["sdks"] + sdks if sdk != "pulumi_aws"]
    print(f"other cloud SDKs imported by (a) or the synthesis: {', '.join(others) or 'none'}")
    print(f"process ratio (a)/(b): {median(walls['a']) / median(walls['b']):.2f}")
    without = [median(imports[n]) - median(collection[n]) for n in ("a", "b")]
    print(f"import ratio without garbage collection (a)/(b): {without[0] / without[1]:.2f}")
    by_name = median(imports["a"]) / median(imports["b'"])
    print(f"import ratio (a)/(b'), what mlops-infra adds to the same SDK imports: {by_name:.2f}")
    if args.importtime:
        _, _, stderr_a = run_child(variants["a"], names, importtime=True)
        _, _, stderr_b = run_child(variants["b'"], names, importtime=True)
        extra = extra_imports(stderr_a, stderr_b)
        total = sum(ms for ms, _, _ in extra)
        print(f"imported by (a) only: {total:.0f} ms of module bodies (self time, -X importtime):")
        for ms, package, count in extra[:15]:
            print(f"  {ms:7.1f} ms  {package} ({count} modules)")
    print(f"import_ratio: {median(imports['a']) / median(imports['b']):.2f}")


if __name__ == "__main__":
    main()
