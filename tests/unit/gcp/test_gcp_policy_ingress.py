"""MLOPS-GCP-RUN-001 agrees with the GCP topology (backends/gcp/README.md, issue 14 item 6).

The tracking service takes traffic from anywhere, because Vertex AI jobs (peered
networks) and the gate on the deployer's machine do not count as the VPC's traffic for
Cloud Run's internal ingress
(https://cloud.google.com/run/docs/securing/ingress#internal-services); that is compliant
only while every caller needs IAM (run.invoker) and MLflow basic auth. Serving services,
now deployed through the Admin API (``GcpCloudRunDeployment``), stay internal unless public.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.plan.facts import EndpointFact, StackFacts
from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies import rule
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Status

SERVICE = "gcp:cloudrunv2/service:Service"
DEPLOYMENT = "pulumi-python:dynamic/mlops:GcpCloudRunDeployment"
ENDPOINT = EndpointFact(
    name="churn",
    component="mlops-endpoint-churn",
    model="churn",
    alias="champion",
    gated=True,
    min_replicas=1,
)


def _status(type_: str, name: str, inputs: dict[str, Any], facts: StackFacts) -> Status:
    resource = PlannedResource(urn=f"urn:{name}", type=type_, name=name, inputs=inputs)
    context = PolicyContext(stack="gcp-dev", facts=facts, resources=(resource,))
    return rule("MLOPS-GCP-RUN-001").evaluate(resource, context).status


@pytest.mark.parametrize(
    ("type_", "name", "inputs", "auth", "expected"),
    [
        # The tracking server: from anywhere, with IAM and basic auth.
        (SERVICE, "mlops-tracking-service", {"ingress": "INGRESS_TRAFFIC_ALL"}, True,
         Status.COMPLIANT),
        # ... not without basic auth, nor with the IAM check off.
        (SERVICE, "mlops-tracking-service", {"ingress": "INGRESS_TRAFFIC_ALL"}, False,
         Status.NON_COMPLIANT),
        (SERVICE, "mlops-tracking-service",
         {"ingress": "INGRESS_TRAFFIC_ALL", "invokerIamDisabled": True}, True,
         Status.NON_COMPLIANT),
        # The serving deployment's body is checked like a service.
        (DEPLOYMENT, "mlops-endpoint-churn",
         {"template": {"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"}}, True, Status.COMPLIANT),
        (DEPLOYMENT, "mlops-endpoint-churn",
         {"template": {"ingress": "INGRESS_TRAFFIC_ALL"}}, True, Status.NON_COMPLIANT),
    ],
)  # fmt: skip
def test_ingress(
    type_: str, name: str, inputs: dict[str, Any], auth: bool, expected: Status
) -> None:
    facts = StackFacts(
        cloud="gcp",
        environment="dev",
        tier="development",
        tracking_auth=auth,
        endpoints=(ENDPOINT,),
    )
    assert _status(type_, name, inputs, facts) == expected
