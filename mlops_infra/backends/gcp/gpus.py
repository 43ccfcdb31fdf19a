"""GPU shapes on GCP: Vertex AI machine types with accelerators; Cloud Run serves on L4."""

from __future__ import annotations

from mlops_infra.catalog.gpus import GpuOffers, offers_from_table

__all__ = ["GCP_GPUS", "NO_VPC_PEERING"]

GCP_GPUS = GpuOffers(
    cloud="gcp",
    training=offers_from_table(
        {
            "t4": [
                (1, "n1-standard-8", "NVIDIA_TESLA_T4"),
                (2, "n1-standard-16", "NVIDIA_TESLA_T4"),
                (4, "n1-standard-32", "NVIDIA_TESLA_T4"),
            ],
            "v100": [
                (1, "n1-standard-8", "NVIDIA_TESLA_V100"),
                (2, "n1-standard-16", "NVIDIA_TESLA_V100"),
                (4, "n1-standard-32", "NVIDIA_TESLA_V100"),
                (8, "n1-standard-64", "NVIDIA_TESLA_V100"),
            ],
            "l4": [
                (1, "g2-standard-8", "NVIDIA_L4"),
                (2, "g2-standard-24", "NVIDIA_L4"),
                (4, "g2-standard-48", "NVIDIA_L4"),
                (8, "g2-standard-96", "NVIDIA_L4"),
            ],
            "a100-40gb": [
                (1, "a2-highgpu-1g", "NVIDIA_TESLA_A100"),
                (2, "a2-highgpu-2g", "NVIDIA_TESLA_A100"),
                (4, "a2-highgpu-4g", "NVIDIA_TESLA_A100"),
                (8, "a2-highgpu-8g", "NVIDIA_TESLA_A100"),
                (16, "a2-megagpu-16g", "NVIDIA_TESLA_A100"),
            ],
            "a100-80gb": [
                (1, "a2-ultragpu-1g", "NVIDIA_A100_80GB"),
                (2, "a2-ultragpu-2g", "NVIDIA_A100_80GB"),
                (4, "a2-ultragpu-4g", "NVIDIA_A100_80GB"),
                (8, "a2-ultragpu-8g", "NVIDIA_A100_80GB"),
            ],
            "h100": [(8, "a3-highgpu-8g", "NVIDIA_H100_80GB")],
            "h200": [(8, "a3-ultragpu-8g", "NVIDIA_H200_141GB")],
        }
    ),
    # Cloud Run is the serving target; it attaches one L4 per instance.
    serving=offers_from_table({"l4": [(1, "cloud-run", "nvidia-l4")]}),
)
"""Portable GPU shapes → Vertex AI machine and accelerator types, and Cloud Run GPUs."""

NO_VPC_PEERING = frozenset({"a3-ultragpu-8g", "a3-megagpu-8g"})
"""Vertex AI machine types that cannot join a network by VPC peering (A3 Ultra and Mega:
their custom jobs reach a VPC only through a Private Service Connect interface, which this
backend does not create). A stack with a network refuses them on the ``vertex`` flavor."""
