"""The workload side: how pipeline steps run component code (the same on every cloud)."""

from mlops_infra.runtime.context import LINEAGE_TAGS, StepContext

__all__ = ["LINEAGE_TAGS", "StepContext"]
