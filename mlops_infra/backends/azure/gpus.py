"""GPU shapes on Azure Machine Learning compute and managed online endpoints."""

from __future__ import annotations

from mlops_infra.catalog.gpus import GpuOffers, offers_from_table

__all__ = ["AZURE_GPUS"]

AZURE_GPUS = GpuOffers(
    cloud="azure",
    training=offers_from_table(
        {
            "t4": [(1, "Standard_NC4as_T4_v3"), (4, "Standard_NC64as_T4_v3")],
            "v100": [(1, "Standard_NC6s_v3"), (2, "Standard_NC12s_v3"), (4, "Standard_NC24s_v3")],
            "a100-40gb": [(8, "Standard_ND96asr_v4")],
            "a100-80gb": [
                (1, "Standard_NC24ads_A100_v4"),
                (2, "Standard_NC48ads_A100_v4"),
                (4, "Standard_NC96ads_A100_v4"),
                (8, "Standard_ND96amsr_A100_v4"),
            ],
            "h100": [(8, "Standard_ND96isr_H100_v5")],
            "h200": [(8, "Standard_ND96isr_H200_v5")],
        }
    ),
)
"""Portable GPU shapes → Azure VM sizes."""
