"""The ``gcp`` pack: rules over ``gcp:*`` resources (pulumi_gcp type tokens and inputs)."""

from mlops_infra.backends.gcp.policies import network, serving, sql, storage

__all__ = ["RULES"]

RULES = (*storage.RULES, *sql.RULES, *serving.RULES, *network.RULES)
"""Every rule of the pack."""
