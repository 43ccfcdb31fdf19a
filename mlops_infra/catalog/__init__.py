"""Portable catalogs: names that mean the same hardware on every cloud."""

from mlops_infra.catalog.gpus import (
    GPU_MODELS,
    GpuModel,
    GpuNotOfferedError,
    GpuOffer,
    GpuOffers,
    known_gpu_names,
    offers_from_table,
)

__all__ = [
    "GPU_MODELS",
    "GpuModel",
    "GpuNotOfferedError",
    "GpuOffer",
    "GpuOffers",
    "known_gpu_names",
    "offers_from_table",
]
