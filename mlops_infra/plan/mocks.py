"""Mocks for plans: inputs echoed as outputs, plus the few outputs programs read back.

:class:`~mlops_infra.offline.EchoMocks` echoes inputs; a few outputs are computed by the
provider and read back by the program (the local store's ``uri``, account ids from
invokes). These mocks fill them with fixed, obviously fake values, so a plan is the
same on every machine and never needs credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.offline import EchoMocks

__all__ = ["GATE_PENDING", "MOCK_ACCOUNT_ID", "PlanMocks"]

MOCK_ACCOUNT_ID = "123456789012"
"""The account id (AWS), project number (GCP) every plan reports."""

_DYNAMIC = "pulumi-python:dynamic/"
_GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
_STACK_REFERENCE = "pulumi:pulumi:StackReference"

GATE_PENDING = "gate-pending"
"""The model version a promotion gate reports in a plan (it decides at ``pulumi up``)."""

_GATE_OUTPUTS: dict[str, Any] = {
    "served_version": GATE_PENDING,
    "served_source": f"mlflow-artifacts:/{GATE_PENDING}/model",
    "decision": {
        "outcome": "pending",
        "reason": "the gate is evaluated against the tracking server at pulumi up",
    },
}
_MOCK_UUID = "00000000-0000-0000-0000-000000000000"

#: Results of the invokes cloud backends commonly make, keyed by invoke token.
_CALLS: dict[str, dict[str, Any]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": MOCK_ACCOUNT_ID,
        "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/plan",
        "id": MOCK_ACCOUNT_ID,
        "userId": "PLAN",
    },
    "aws:index/getPartition:getPartition": {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "id": "aws",
        "reverseDnsPrefix": "com.amazonaws",
    },
    "gcp:organizations/getProject:getProject": {
        "number": MOCK_ACCOUNT_ID,
        "projectId": "plan-project",
        "name": "plan-project",
    },
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
        "emailAddress": f"service-{MOCK_ACCOUNT_ID}@gs-project-accounts.iam.gserviceaccount.com",
        "project": "plan-project",
    },
    "gcp:organizations/getClientConfig:getClientConfig": {
        "project": "plan-project",
        "region": "us-central1",
        "accessToken": "",
    },
    "azure-native:authorization:getClientConfig": {
        "clientId": _MOCK_UUID,
        "objectId": _MOCK_UUID,
        "subscriptionId": _MOCK_UUID,
        "tenantId": _MOCK_UUID,
    },
}


class PlanMocks(EchoMocks):
    """Echo mocks with fixed invoke results and the outputs programs read back.

    Args:
        region: Region reported by region invokes (``aws:index/getRegion:getRegion``).
        calls: Extra or overriding invoke results, by token.
    """

    def __init__(
        self, region: str | None = None, calls: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        """Creates the mocks."""
        results: dict[str, Mapping[str, Any]] = dict(_CALLS)
        aws_region = region or "us-east-1"
        results["aws:index/getRegion:getRegion"] = {
            "name": aws_region,
            "region": aws_region,
            "id": aws_region,
            "endpoint": f"ec2.{aws_region}.amazonaws.com",
        }
        results["aws:index/getAvailabilityZones:getAvailabilityZones"] = {
            "id": aws_region,
            "names": [f"{aws_region}{zone}" for zone in "abc"],
            "zoneIds": [f"{aws_region}-az{index}" for index in (1, 2, 3)],
            "state": "available",
        }
        results.update(calls or {})
        super().__init__(calls=results)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Echoes the inputs, with the outputs a plan must fill in.

        A local resource's ``path`` gives its ``file://`` ``uri``; a promotion gate, which
        is evaluated against the tracking server only at ``pulumi up``, reports the
        placeholder version :data:`GATE_PENDING`, so that what it would deploy is planned;
        a stack reference exports nothing.
        """
        resource_id, state = super().new_resource(args)
        if args.typ == _GATE:
            state.update(_GATE_OUTPUTS)
        elif args.typ == _STACK_REFERENCE:
            # Another stack's outputs cannot be read offline: it exports nothing here.
            state.update({"outputs": {}, "secretOutputNames": []})
        path = state.get("path")
        if args.typ.startswith(_DYNAMIC) and state.get("uri") is None and isinstance(path, str):
            state["uri"] = Path(path).as_uri()
        return resource_id, state
