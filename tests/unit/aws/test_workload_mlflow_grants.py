"""Every workload role grants exactly the MLflow actions of the runtime's recorded calls.

The calls are recorded by rehearse (``mlops_infra.mlflow_rest.WORKLOAD_CALLS``); a tracking
server authorizes each by its ``sagemaker-mlflow`` action; an MLflow App also needs
``sagemaker:CallMlflowAppApi`` (Service Authorization Reference, see ``mlflow_auth``).
"""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws.mlflow_auth import iam_action
from mlops_infra.mlflow_rest import WORKLOAD_CALLS

from .helpers import PIPELINE, run_aws

_POLICY = "aws:iam/rolePolicy:RolePolicy"
_SPEC: dict[str, Any] = {
    "network": {"create": True},
    "clusters": [{"name": "gpu", "gpu": "l4"}, {"name": "pool", "flavor": "batch"}],
    "jobs": [
        {"name": "fit", "component": "diagnosis.featurize", "cluster": "gpu"},
        {"name": "batch-fit", "flavor": "batch", "component": "diagnosis.featurize",
         "cluster": "pool"},
    ],
    "pipelines": [PIPELINE],
}  # fmt: skip
_ROLE_POLICIES = [
    "mlops-pipeline-diagnosis-role-policy",
    "mlops-job-fit-role-policy",
    "mlops-job-batch-fit-role-policy",
]


def _tracking_statement(run: Any, policy: str) -> dict[str, Any]:
    statements = run.inputs(_POLICY, policy, parse_json=True)["policy"]["Statement"]
    (found,) = [s for s in statements if s.get("Sid") == "TrackingServer"]
    return found


@pytest.mark.parametrize(
    ("deployment", "resource", "actions"),
    [
        ("tracking-server", ":mlflow-tracking-server/dev-mlops-tracking",
         sorted(iam_action(call) for call in WORKLOAD_CALLS)),
        ("app", ":mlflow-app/app-",
         ["sagemaker:CallMlflowAppApi", *sorted(iam_action(call) for call in WORKLOAD_CALLS)]),
    ],
)  # fmt: skip
def test_each_workload_role_grants_the_recorded_calls(
    deployment: str, resource: str, actions: list[str]
) -> None:
    spec = {**_SPEC, "tracking": {"options": {"deployment": deployment}}}
    run = run_aws(spec)
    for policy in _ROLE_POLICIES:
        statement = _tracking_statement(run, policy)
        assert statement["Action"] == actions, policy
        (arn,) = statement["Resource"]
        assert resource in arn, policy


def test_a_self_hosted_server_needs_no_mlflow_action() -> None:
    spec = {**_SPEC, "tracking": {"flavor": "self-hosted"}}
    run = run_aws(spec)
    policies = [r for r in run.registrations if r.type == _POLICY and r.name in _ROLE_POLICIES]
    assert len(policies) == len(_ROLE_POLICIES)
    for policy in policies:
        assert all(
            s.get("Sid") != "TrackingServer"
            for s in policy.plain_inputs(parse_json=True)["policy"]["Statement"]
        )
