"""Step ``register``: register the run's model in the model registry, with lineage tags."""

from __future__ import annotations

from mlops_infra.runtime import StepContext


def run(ctx: StepContext) -> None:
    """Registers ``model`` from the pipeline run; the runner records the new version."""
    version = ctx.register_model("model")
    print(f"registered {ctx.model_name} version {version}")
