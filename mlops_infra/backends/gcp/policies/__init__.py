"""The ``gcp`` pack: rules over ``gcp:*`` resources (pulumi_gcp type tokens and inputs)."""

from mlops_infra.backends.gcp.policies import serving, sql, storage

__all__ = ["RULES"]

RULES = (*storage.RULES, *sql.RULES, *serving.RULES)
"""Every rule of the pack."""
