"""What offline plans and diffs know of Google Cloud: replacement rules, stateful types, invokes.

A plan has no provider to ask: :data:`PLAN_RULES` says which input changes replace a
resource and which types hold data; :func:`plan_invokes` answers the invokes the
backends make (project, storage service agent, client config).

Imports no cloud SDK: the descriptor in :mod:`mlops_infra.backends.gcp.plugin` points here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlops_infra.plan.provider_rules import ProviderRules

__all__ = ["MOCK_PROJECT_NUMBER", "MOCK_ROLE_SUFFIX", "PLAN_RULES", "plan_invokes", "plan_outputs"]

MOCK_PROJECT_NUMBER = "123456789012"
"""The project number every plan reports (obviously fake)."""

MOCK_ROLE_SUFFIX = "00000000"
"""The custom role suffix every plan reports (drawn at random at ``pulumi up``; the same
zeros the program falls back on when an offline run echoes no suffix)."""

_ROLE_SUFFIX = "pulumi-python:dynamic/mlops:GcpRoleSuffix"
_CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"

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


def plan_invokes(region: str | None) -> Mapping[str, Mapping[str, Any]]:
    """Answers the invokes GCP backends make, with fixed, obviously fake values."""
    del region  # the project's region comes from the stack, not from an invoke
    return {
        "gcp:organizations/getProject:getProject": {
            "number": MOCK_PROJECT_NUMBER,
            "projectId": "plan-project",
            "name": "plan-project",
        },
        "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
            "emailAddress": (
                f"service-{MOCK_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            ),
            "project": "plan-project",
        },
        "gcp:organizations/getClientConfig:getClientConfig": {
            "project": "plan-project",
            "region": "us-central1",
            "accessToken": "",
        },
    }


def plan_outputs(
    typ: str, name: str, inputs: Mapping[str, Any], region: str | None
) -> Mapping[str, Any] | None:
    """Outputs GCP computes that the backends read back, as fixed, obviously fake values.

    A custom role's suffix is drawn at ``pulumi up``; the role's ``name``
    (``projects/<project>/roles/<role id>``) is what its grants name.

    Args:
        typ: The resource's type token.
        name: Its logical name.
        inputs: Its inputs.
        region: The stack's region.
    """
    del name, region  # neither shapes these outputs
    if typ == _ROLE_SUFFIX:
        return {"value": MOCK_ROLE_SUFFIX}
    if typ == _CUSTOM_ROLE:
        return {"name": f"projects/{inputs.get('project')}/roles/{inputs.get('roleId')}"}
    return None
