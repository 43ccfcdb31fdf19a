"""The ``aws`` pack: rules over ``aws:*`` resources (pulumi_aws 7 type tokens and inputs)."""

from mlops_infra.backends.aws.policies import ecr, iam, kms, network, rds, s3, sagemaker, secrets

__all__ = ["RULES"]

RULES = (
    *s3.RULES,
    *kms.RULES,
    *ecr.RULES,
    *secrets.RULES,
    *iam.RULES,
    *sagemaker.RULES,
    *rds.RULES,
    *network.RULES,
)
"""Every rule of the pack."""
