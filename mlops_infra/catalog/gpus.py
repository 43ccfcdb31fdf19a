"""The portable GPU catalog: one name per GPU model, mapped to each cloud's offers.

Stack files say ``gpu: a100-80gb`` and ``gpu_count: 8``; each cloud declares which
instance (AWS, Azure) or machine type plus accelerator (GCP) delivers that, so the
same spec means the same hardware everywhere, and a combination no cloud sells is
rejected before anything is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "GPU_MODELS",
    "GpuModel",
    "GpuNotOfferedError",
    "GpuOffer",
    "GpuOffers",
    "Purpose",
    "known_gpu_names",
    "offers_from_table",
]

Purpose = Literal["training", "serving"]
"""What the GPU is for: clouds sell different shapes for training and for serving."""


@dataclass(frozen=True, slots=True)
class GpuModel:
    """A GPU model under its portable name.

    Attributes:
        name: Portable name used in stack files, e.g. ``a100-80gb``.
        vendor_name: The vendor's product name.
        memory_gib: Memory per GPU.
    """

    name: str
    vendor_name: str
    memory_gib: int


GPU_MODELS: Mapping[str, GpuModel] = {
    model.name: model
    for model in (
        GpuModel("t4", "NVIDIA T4", 16),
        GpuModel("l4", "NVIDIA L4", 24),
        GpuModel("a10g", "NVIDIA A10G", 24),
        GpuModel("l40s", "NVIDIA L40S", 48),
        GpuModel("v100", "NVIDIA V100", 16),
        GpuModel("a100-40gb", "NVIDIA A100 40GB", 40),
        GpuModel("a100-80gb", "NVIDIA A100 80GB", 80),
        GpuModel("h100", "NVIDIA H100 80GB", 80),
        GpuModel("h200", "NVIDIA H200 141GB", 141),
    )
}
"""Every portable GPU name, by name."""


def known_gpu_names() -> list[str]:
    """Returns the portable GPU names, sorted."""
    return sorted(GPU_MODELS)


class GpuNotOfferedError(ValueError):
    """A GPU name, count or purpose that a cloud does not offer; the message lists what is.

    Attributes:
        field: The spec field at fault: ``gpu`` (the model) or ``gpu_count``.
    """

    def __init__(self, message: str, field: str) -> None:
        """Creates the error for ``field`` with ``message``."""
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class GpuOffer:
    """One way a cloud delivers ``count`` GPUs of model ``gpu`` on one node.

    Attributes:
        gpu: Portable GPU name.
        count: GPUs per node.
        instance_type: The cloud's instance or machine type, e.g. ``ml.g5.12xlarge``.
        accelerator: The cloud's accelerator type where it is set apart from the machine
            type (GCP ``NVIDIA_L4``), else ``None``.
    """

    gpu: str
    count: int
    instance_type: str
    accelerator: str | None = None


@dataclass(frozen=True)
class GpuOffers:
    """The GPU shapes one cloud offers, per purpose.

    Attributes:
        cloud: The cloud these offers belong to.
        training: Offers for training clusters and jobs.
        serving: Offers for serving endpoints; ``None`` means the same as training.
        any_shape: Accept any known GPU in any count (the local machine, which detects
            its GPUs when a job runs rather than selling fixed shapes).
    """

    cloud: str
    training: tuple[GpuOffer, ...] = ()
    serving: tuple[GpuOffer, ...] | None = None
    any_shape: bool = False
    _index: dict[tuple[Purpose, str, int], GpuOffer] = field(
        init=False,
        repr=False,
        compare=False,
        default_factory=dict[tuple[Purpose, str, int], GpuOffer],
    )

    def __post_init__(self) -> None:
        """Indexes the offers and rejects unknown GPU names in the table itself."""
        for purpose in ("training", "serving"):
            for offer in self.offers(purpose):
                if offer.gpu not in GPU_MODELS:
                    msg = f"{self.cloud} offers unknown GPU {offer.gpu!r}"
                    raise ValueError(msg)
                self._index[(purpose, offer.gpu, offer.count)] = offer

    def offers(self, purpose: Purpose) -> tuple[GpuOffer, ...]:
        """Returns the offers for ``purpose``."""
        if purpose == "serving" and self.serving is not None:
            return self.serving
        return self.training

    def counts(self, gpu: str, purpose: Purpose) -> list[int]:
        """Returns the GPU counts per node offered for ``gpu``, ascending."""
        return sorted({o.count for o in self.offers(purpose) if o.gpu == gpu})

    def describe(self, purpose: Purpose) -> str:
        """Returns what is offered for ``purpose``, e.g. ``l4 (1, 2, 4, 8), t4 (1, 4)``."""
        gpus = sorted({o.gpu for o in self.offers(purpose)})
        if not gpus:
            return "none"
        return ", ".join(
            f"{gpu} ({', '.join(str(c) for c in self.counts(gpu, purpose))})" for gpu in gpus
        )

    def resolve(self, gpu: str, count: int, purpose: Purpose = "training") -> GpuOffer | None:
        """Returns the offer delivering ``count`` x ``gpu`` for ``purpose``.

        Returns ``None`` where the cloud accepts any shape (there is no instance type to
        pick). Raises :class:`GpuNotOfferedError`, listing what is offered, otherwise.
        """
        if gpu not in GPU_MODELS:
            msg = f"{gpu!r} is not a known GPU; known: {', '.join(known_gpu_names())}"
            raise GpuNotOfferedError(msg, "gpu")
        if count < 1:
            msg = f"a GPU count must be at least 1; got {count}"
            raise GpuNotOfferedError(msg, "gpu_count")
        if self.any_shape:
            return None
        offer = self._index.get((purpose, gpu, count))
        if offer is not None:
            return offer
        counts = self.counts(gpu, purpose)
        if not counts:
            msg = (
                f"{gpu!r} is not offered on {self.cloud} for {purpose}; "
                f"offered: {self.describe(purpose)}"
            )
            raise GpuNotOfferedError(msg, "gpu")
        msg = (
            f"no {self.cloud} {purpose} instance has {count} x {gpu!r}; "
            f"offered counts: {', '.join(str(c) for c in counts)}"
        )
        raise GpuNotOfferedError(msg, "gpu_count")


def offers_from_table(
    table: Mapping[str, Iterable[tuple[int, str] | tuple[int, str, str]]],
) -> tuple[GpuOffer, ...]:
    """Builds offers from ``{gpu: [(count, instance_type[, accelerator]), ...]}``."""
    offers: list[GpuOffer] = []
    for gpu, rows in table.items():
        for row in rows:
            accelerator = row[2] if len(row) == 3 else None
            offers.append(
                GpuOffer(gpu=gpu, count=row[0], instance_type=row[1], accelerator=accelerator)
            )
    return tuple(offers)
