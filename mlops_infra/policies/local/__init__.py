"""The ``local`` pack: rules over the local backend's processes and folders."""

from mlops_infra.policies.local import processes

__all__ = ["RULES"]

RULES = processes.RULES
"""Every rule of the pack."""
