"""GPU detection on this machine (``nvidia-smi``), and handing GPUs to jobs."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

__all__ = ["LocalGpu", "assign_gpus", "cpu_count", "detect_gpus"]


@dataclass(frozen=True)
class LocalGpu:
    """A GPU of this machine.

    Attributes:
        index: Its index (what ``CUDA_VISIBLE_DEVICES`` takes).
        name: Its product name.
        memory_mib: Its memory.
    """

    index: int
    name: str
    memory_mib: int


def detect_gpus(nvidia_smi: str | None = None) -> list[LocalGpu]:
    """Returns the GPUs ``nvidia-smi`` reports; none when it is absent or fails."""
    command = nvidia_smi or shutil.which("nvidia-smi")
    if not command:
        return []
    try:
        result = subprocess.run(
            [command, "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    gpus: list[LocalGpu] = []
    for line in result.stdout.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 3 and parts[0].isdigit():
            memory = int(float(parts[2])) if parts[2].replace(".", "", 1).isdigit() else 0
            gpus.append(LocalGpu(index=int(parts[0]), name=parts[1], memory_mib=memory))
    return gpus


def assign_gpus(wanted: int, available: list[LocalGpu]) -> tuple[str, str]:
    """Returns ``(CUDA_VISIBLE_DEVICES, note)`` for a job wanting ``wanted`` GPUs.

    With too few GPUs the job runs on CPU (``CUDA_VISIBLE_DEVICES=""``) and the note says so.
    """
    if wanted <= 0:
        return "", "cpu"
    if len(available) < wanted:
        return "", f"cpu fallback: {wanted} GPU(s) wanted, {len(available)} detected"
    chosen = available[:wanted]
    return ",".join(str(g.index) for g in chosen), "gpu " + ", ".join(
        f"{g.index}:{g.name}" for g in chosen
    )


def cpu_count() -> int:
    """CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
