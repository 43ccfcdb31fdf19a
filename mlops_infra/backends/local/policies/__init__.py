"""The ``local`` pack: rules over the local backend's processes and folders."""

from mlops_infra.backends.local.policies import processes

__all__ = ["RULES"]

RULES = processes.RULES
"""Every rule of the pack."""
