"""``python -m mlops_infra.backends.azure.container_entry``: run a component inside an Azure ML job.

The command of every Azure ML job and pipeline component the backend declares. Azure ML
runs it in the job's code snapshot (the versioned package) with the tracking
environment set; this module turns the command line into a
:class:`~mlops_infra.runtime.StepContext` (the same contract as on every cloud) and runs
the component's ``run(ctx)``.

* ``--context`` carries the static part (pipeline, step, version, model, parameters,
  data references, lineage tags) as URL-safe base64 JSON, so no shell quoting applies.
* ``--input NAME=PATH`` (repeatable) maps upstream steps to their mounted outputs,
  ``--data NAME=PATH`` (repeatable) the uploaded datasets to their mounted copies, and
  ``--output PATH`` is this step's output folder, all substituted by Azure ML from
  ``${{inputs.*}}`` / ``${{outputs.*}}``.
* The MLflow run is the pipeline's root run (``AZUREML_ROOT_RUN_ID``), so metrics of every
  step and the model land in one run, as on the other clouds.

Imports no cloud SDK and nothing of the library but the step runtime: this module, the
runtime and empty package files are shipped in every code asset (see
:func:`~mlops_infra.backends.azure._workload.runtime_files`), so the job's environment needs
MLflow and the components' requirements, never ``mlops-infra`` from an index.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import sys
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from mlops_infra.runtime import StepContext

# Any: the context is JSON (parameters are JSON scalars, data and tags strings); it is
# checked field by field when the StepContext is built.

__all__ = ["decode_context", "encode_context", "main"]


def encode_context(values: Mapping[str, Any]) -> str:
    """Returns ``values`` as URL-safe base64 JSON (safe on any command line)."""
    text = json.dumps(dict(values), sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_context(encoded: str) -> dict[str, Any]:
    """Reverses :func:`encode_context`."""
    data: Any = json.loads(base64.urlsafe_b64decode(encoded.encode()))
    if not isinstance(data, dict):
        msg = "the --context value is not a JSON object"
        raise TypeError(msg)
    # JSON objects have string keys; the values are whatever the backend encoded (Any).
    return typing.cast(dict[str, Any], data)


def _pairs(option: str, pairs: Sequence[str]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name:
            msg = f"{option} expects NAME=PATH; got {pair!r}"
            raise ValueError(msg)
        inputs[name] = path
    return inputs


def build_context(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[StepContext, str]:
    """Returns the step context and the component module named by ``argv``."""
    parser = argparse.ArgumentParser(prog="python -m mlops_infra.backends.azure.container_entry")
    parser.add_argument("--context", required=True)
    parser.add_argument("--component", required=True)
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--data", action="append", default=[])
    parser.add_argument("--output", default="outputs")
    args = parser.parse_args(list(argv))
    static = decode_context(str(args.context))
    run_id = environ.get("AZUREML_ROOT_RUN_ID") or environ.get("MLFLOW_RUN_ID") or ""
    context = StepContext(
        pipeline=str(static["pipeline"]),
        step=str(static["step"]),
        version=str(static["version"]),
        run_id=run_id,
        model_name=str(static["model_name"]),
        params=dict(static.get("params") or {}),
        data={
            **{str(k): str(v) for k, v in dict(static.get("data") or {}).items()},
            **_pairs("--data", [str(p) for p in args.data]),
        },
        inputs=_pairs("--input", [str(p) for p in args.input]),
        output_dir=str(args.output),
        tags={str(k): str(v) for k, v in dict(static.get("tags") or {}).items()},
        gpus=environ.get("CUDA_VISIBLE_DEVICES", ""),
    )
    return context, str(args.component)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the component; returns the process exit code."""
    context, component = build_context(sys.argv[1:] if argv is None else argv, os.environ)
    if context.run_id:
        # Fluent MLflow calls of the component log to the pipeline's run too.
        os.environ["MLFLOW_RUN_ID"] = context.run_id
    module = importlib.import_module(component)
    run = getattr(module, "run", None)
    if not callable(run):
        print(f"component {component!r} has no run(ctx) function", file=sys.stderr)
        return 2
    print(f"[{context.pipeline}/{context.step}] running {component}", flush=True)
    metrics = run(context)
    if isinstance(metrics, Mapping) and metrics:
        context.log_metrics(metrics)  # pyright: ignore[reportUnknownArgumentType]
    return 0


if __name__ == "__main__":
    sys.exit(main())
