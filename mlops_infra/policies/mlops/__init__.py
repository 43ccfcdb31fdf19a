"""The ``mlops`` pack: cloud-agnostic rules (GPU and cost caps, tags, secrets, gates...)."""

from mlops_infra.policies.mlops import components, compute, hygiene

__all__ = ["RULES"]

RULES = (*compute.RULES, *hygiene.RULES, *components.RULES)
"""Every rule of the pack."""
