"""What offline plans and diffs know of Google Cloud: replacement rules, stateful types.

A plan has no provider to ask: :data:`PLAN_RULES` says which input changes replace a
resource and which types hold data. The invokes and computed outputs a plan needs are
answered by :class:`~mlops_infra.backends.gcp.testing.GcpMocks` (the unit tests' mocks).

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.gcp.plugin` points here.
"""

from __future__ import annotations

from types import MappingProxyType

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["PLAN_RULES"]

PLAN_RULES = ProviderRules(
    replaced_on=MappingProxyType(
        {
            "gcp:storage/bucket:Bucket": frozenset({"name", "location", "project"}),
            "gcp:sql/databaseInstance:DatabaseInstance": frozenset(
                {"name", "region", "project", "encryptionKeyName", "masterInstanceName"}
            ),
            "gcp:cloudrunv2/service:Service": frozenset({"name", "location", "project"}),
            "gcp:cloudrunv2/job:Job": frozenset({"name", "location", "project"}),
            "gcp:artifactregistry/repository:Repository": frozenset(
                {"repositoryId", "location", "format", "kmsKeyName", "mode", "project"}
            ),
            "gcp:kms/cryptoKey:CryptoKey": frozenset(
                {"name", "keyRing", "purpose", "importOnly", "skipInitialVersionCreation"}
            ),
            "gcp:kms/keyRing:KeyRing": frozenset({"name", "location", "project"}),
            "gcp:secretmanager/secret:Secret": frozenset({"secretId", "replication", "project"}),
            "gcp:serviceaccount/account:Account": frozenset({"accountId", "project"}),
            "gcp:workflows/workflow:Workflow": frozenset({"name", "region", "project"}),
        }
    ),
    stateful_types=frozenset(
        {
            "gcp:storage/bucket:Bucket",
            "gcp:sql/databaseInstance:DatabaseInstance",
            "gcp:sql/database:Database",
            "gcp:artifactregistry/repository:Repository",
            "gcp:kms/cryptoKey:CryptoKey",
            "gcp:kms/keyRing:KeyRing",
            "gcp:secretmanager/secret:Secret",
            "gcp:filestore/instance:Instance",
        }
    ),
    tagged_types=frozenset(
        {
            "gcp:storage/bucket:Bucket",
            "gcp:cloudrunv2/service:Service",
            "gcp:artifactregistry/repository:Repository",
        }
    ),
)
"""Replacement, stateful and tagged types of pulumi_gcp."""
