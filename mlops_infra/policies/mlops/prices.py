"""Rough hourly list prices, for the cost guardrail only (never for billing).

Prices are per GPU-hour, on demand, in USD, rounded from the public list prices of the
big three clouds' common GPU instances (2025); a node without GPUs is counted at a flat
rate. They only have to be right to within a small factor to stop a typo (``gpu_count:
8`` on 64 nodes) from reaching production; set ``limits.max_hourly_usd`` with margin.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlops_infra.catalog.gpus import GpuOffers
from mlops_infra.errors import RegistryError
from mlops_infra.plan.facts import ComputeFact
from mlops_infra.registry import default_registry

__all__ = ["CPU_NODE_USD", "GPU_HOUR_USD", "gpus_per_node", "hourly_usd"]

GPU_HOUR_USD: Mapping[str, float] = {
    "t4": 0.55,
    "l4": 0.85,
    "a10g": 1.05,
    "l40s": 1.90,
    "v100": 3.10,
    "a100-40gb": 4.10,
    "a100-80gb": 5.10,
    "h100": 7.00,
    "h200": 8.00,
}
"""USD per GPU-hour, by portable GPU name."""

CPU_NODE_USD = 0.40
"""USD per hour of a node without GPUs."""


def _offers(cloud: str) -> list[GpuOffers]:
    # The cloud's descriptor holds its GPU table; an unknown cloud prices by GPU name only.
    try:
        return [default_registry().cloud(cloud).gpus]
    except RegistryError:
        return []


def _from_instance_type(cloud: str, instance_type: str) -> tuple[str | None, int]:
    found = {
        (offer.gpu, offer.count)
        for offers in _offers(cloud)
        for purpose in ("training", "serving")
        for offer in offers.offers(purpose)
        if offer.instance_type == instance_type and offer.accelerator is None
    }
    if len(found) == 1:
        return found.pop()
    return None, 0


def gpus_per_node(compute: ComputeFact, cloud: str) -> tuple[str | None, int]:
    """Returns ``(gpu, count)`` per node: the portable shape, or the instance type's GPUs."""
    if compute.gpu:
        return compute.gpu, compute.gpu_count
    if compute.instance_type:
        return _from_instance_type(cloud, compute.instance_type)
    return None, 0


def hourly_usd(compute: ComputeFact, cloud: str) -> float:
    """Returns what ``compute`` costs per hour at full scale, at :data:`GPU_HOUR_USD` rates."""
    gpu, count = gpus_per_node(compute, cloud)
    per_node = GPU_HOUR_USD.get(gpu, max(GPU_HOUR_USD.values())) * count if gpu else CPU_NODE_USD
    return per_node * compute.max_nodes
