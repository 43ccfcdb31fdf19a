"""GPU shapes on AWS SageMaker (training and hosting use the same ml.* instance families)."""

from __future__ import annotations

from mlops_infra.catalog.gpus import GpuOffers, offers_from_table

__all__ = ["AWS_GPUS"]

AWS_GPUS = GpuOffers(
    cloud="aws",
    training=offers_from_table(
        {
            "t4": [(1, "ml.g4dn.xlarge"), (4, "ml.g4dn.12xlarge")],
            "a10g": [(1, "ml.g5.xlarge"), (4, "ml.g5.12xlarge"), (8, "ml.g5.48xlarge")],
            "l4": [(1, "ml.g6.xlarge"), (4, "ml.g6.12xlarge"), (8, "ml.g6.48xlarge")],
            "l40s": [(1, "ml.g6e.xlarge"), (4, "ml.g6e.12xlarge"), (8, "ml.g6e.48xlarge")],
            "v100": [(1, "ml.p3.2xlarge"), (4, "ml.p3.8xlarge"), (8, "ml.p3.16xlarge")],
            "a100-40gb": [(8, "ml.p4d.24xlarge")],
            "a100-80gb": [(8, "ml.p4de.24xlarge")],
            "h100": [(8, "ml.p5.48xlarge")],
            "h200": [(8, "ml.p5e.48xlarge")],
        }
    ),
)
"""Portable GPU shapes → SageMaker instance types."""
