"""GPU shapes on Azure Machine Learning compute and managed online endpoints.

Not offered, with the reason: ``v100`` (the NCv3 sizes were retired on 30 September 2025,
https://learn.microsoft.com/azure/virtual-machines/sizes/retirement/ncv3-series-retirement);
``h200`` for serving (managed online endpoints list no H200 size,
https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list).
A stack asking for them is refused with what is offered.
"""

from __future__ import annotations

from mlops_infra.catalog.gpus import GpuOffers, offers_from_table

__all__ = ["AZURE_GPUS"]

_TRAINING = {
    "t4": [(1, "Standard_NC4as_T4_v3"), (4, "Standard_NC64as_T4_v3")],
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

AZURE_GPUS = GpuOffers(
    cloud="azure",
    training=offers_from_table(_TRAINING),
    serving=offers_from_table({gpu: sizes for gpu, sizes in _TRAINING.items() if gpu != "h200"}),
)
"""Portable GPU shapes → Azure VM sizes (training compute; serving without H200)."""
