"""The contract between a pipeline step and the component code it runs.

A component is a module with a function ``run(ctx: StepContext) -> Mapping[str, float] | None``.
It reads its parameters, data and upstream outputs from ``ctx``, writes what it produces
under ``ctx.output_dir``, and logs to MLflow through ``ctx`` (the returned mapping is
logged as metrics). The same contract holds on every cloud: runners only differ in how
they deliver the context.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LINEAGE_TAGS", "StepContext"]

LINEAGE_TAGS = (
    "mlops.pipeline",
    "mlops.pipeline_version",
    "mlops.code_hash",
    "mlops.config_hash",
    "mlops.data_hash",
    "mlops.git_commit",
    "mlops.git_dirty",
    "mlops.stack",
    "mlops.environment",
)
"""Tags every training run carries, so a model version leads back to code, config and data."""


@dataclass
class StepContext:
    """What a step's component receives.

    Attributes:
        pipeline: Pipeline name.
        step: Step name.
        version: Pipeline version being run.
        run_id: MLflow run the step logs to (one run per pipeline run).
        model_name: Registered model the pipeline produces.
        params: Parameters (pipeline-wide merged with the step's own).
        data: Data reference name → local path (``file``/``pkg`` data), or URI.
        inputs: Upstream step name → its output folder.
        output_dir: Where this step writes what it produces.
        tags: Lineage tags of the run (see :data:`LINEAGE_TAGS`).
        gpus: ``CUDA_VISIBLE_DEVICES`` given to the step ('' on CPU).
    """

    pipeline: str
    step: str
    version: str
    run_id: str
    model_name: str
    params: dict[str, Any] = field(default_factory=dict[str, Any])
    data: dict[str, str] = field(default_factory=dict[str, str])
    inputs: dict[str, str] = field(default_factory=dict[str, str])
    output_dir: str = "."
    tags: dict[str, str] = field(default_factory=dict[str, str])
    gpus: str = ""

    def input_path(self, step: str, *parts: str) -> Path:
        """Returns a path inside the output folder of upstream ``step``."""
        if step not in self.inputs:
            msg = f"step {self.step!r} has no input from {step!r}; inputs: {sorted(self.inputs)}"
            raise KeyError(msg)
        return Path(self.inputs[step], *parts)

    def output_path(self, *parts: str) -> Path:
        """Returns a path inside this step's output folder (its parent is created)."""
        path = Path(self.output_dir, *parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def data_path(self, name: str) -> Path:
        """Returns the local path of data reference ``name``."""
        if name not in self.data:
            msg = f"no data reference {name!r}; data: {sorted(self.data)}"
            raise KeyError(msg)
        return Path(self.data[name])

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Logs metrics to the pipeline run."""
        import mlflow  # noqa: PLC0415 - the workload imports MLflow, the library does not

        mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, run_id=self.run_id)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs parameters to the pipeline run, prefixed with the step name."""
        import mlflow  # noqa: PLC0415

        mlflow.log_params({f"{self.step}.{k}": v for k, v in params.items()}, run_id=self.run_id)

    def log_model(
        self, save_model: Callable[..., object], artifact_path: str = "model", **kwargs: Any
    ) -> str:
        """Logs a model to the run under ``artifact_path``; returns its ``runs:/`` URI.

        ``save_model`` is an MLflow flavor's save function (``mlflow.pyfunc.save_model``,
        ``mlflow.sklearn.save_model``, ...), called with a local folder as ``path`` and
        ``kwargs``; the folder is then logged as the run's artifacts. Use this rather than
        the flavor's ``log_model``: MLflow 3's ``log_model`` first creates a *logged model*
        (``/api/2.0/mlflow/logged-models``), an API Azure ML's tracking server answers with
        404 (https://github.com/Azure/azure-sdk-for-python/issues/44896, where Microsoft
        gives this pattern), while run artifacts work on every tracking server, and
        :meth:`register_model` registers from them.
        """
        import mlflow  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix="mlops-model-") as folder:
            local = Path(folder, "model")
            save_model(path=str(local), **kwargs)
            mlflow.log_artifacts(str(local), artifact_path, run_id=self.run_id)
        return f"runs:/{self.run_id}/{artifact_path}"

    def register_model(self, artifact_path: str = "model") -> str:
        """Registers the model logged at ``artifact_path`` of the run; returns the version.

        The new version carries the run's lineage tags.
        """
        import mlflow  # noqa: PLC0415
        from mlflow import MlflowClient  # noqa: PLC0415

        result = mlflow.register_model(  # pyright: ignore[reportUnknownMemberType]
            f"runs:/{self.run_id}/{artifact_path}", self.model_name
        )
        client = MlflowClient()
        for key, value in self.tags.items():
            client.set_model_version_tag(self.model_name, result.version, key, value)
        self.write_result({"model_version": str(result.version)})
        return str(result.version)

    def write_result(self, values: Mapping[str, Any]) -> None:
        """Records values for the runner (e.g. the registered model version)."""
        path = Path(self.output_dir, "result.json")
        current: dict[str, Any] = (
            json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        )
        current.update(values)
        path.write_text(json.dumps(current, indent=2), encoding="utf-8")

    def save(self, path: Path) -> None:
        """Writes the context as JSON (what the runner hands the step process)."""
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> StepContext:
        """Reads a context written by :meth:`save`."""
        return cls(**json.loads(path.read_text(encoding="utf-8")))
