"""The ``azure`` pack: rules over ``azure-native:*`` resources."""

from mlops_infra.backends.azure.policies import network, services, storage

__all__ = ["RULES"]

RULES = (*storage.RULES, *services.RULES, *network.RULES)
"""Every rule of the pack."""
