"""Interface endpoints of a created VPC: the standard set, components' needs, a chosen list.

13.6: a Batch pool in a created VPC (no internet route, no NAT) needs the ECS endpoints, or
its agent never registers and jobs stay RUNNABLE (AmazonECS developer guide,
vpc-endpoints.html). 13.10: the set is selectable, since each endpoint is billed per zone.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws._endpoints import CATALOG, STANDARD, endpoint_roles
from mlops_infra.errors import BackendError

from .helpers import PIPELINE, run_aws

_ECS = ("ecs", "ecs-agent", "ecs-telemetry")


@pytest.mark.parametrize(
    ("listed", "uses", "expected"),
    [
        (None, [], STANDARD),
        (None, ["pipeline/sagemaker", "tracking_server/sagemaker"], STANDARD),
        (None, ["training_cluster/batch"], (*STANDARD, *_ECS)),
        (None, ["training_job/batch", "training_cluster/batch"], (*STANDARD, *_ECS)),
        (["mlflow", "logs"], ["pipeline/sagemaker"], ("mlflow", "logs")),
        ([], [], ()),
        (["ecs-telemetry", "logs", "ecs", "ecr-dkr", "ecs-agent", "ecr-api"],
         ["training_cluster/batch"], ("ecr-api", "ecr-dkr", "logs", *_ECS)),
    ],
)  # fmt: skip
def test_endpoint_roles(
    listed: list[str] | None, uses: list[str], expected: tuple[str, ...]
) -> None:
    assert endpoint_roles(listed, uses) == expected


@pytest.mark.parametrize(
    ("listed", "uses", "message"),
    [
        (["mlflow", "nat"], [], "network.endpoints: unknown ['nat']; allowed: sagemaker-api,"),
        (["mlflow", "logs"], ["training_cluster/batch"],
         "lacks endpoints the stack's components need in a network without an internet route: "
         "training_cluster/batch needs ['ecr-api', 'ecr-dkr', 'ecs', 'ecs-agent', 'ecs-telemetry']"),
        (["logs"], ["tracking_server/self-hosted"],
         "tracking_server/self-hosted needs ['ecr-api', 'ecr-dkr', 'secretsmanager']"),
    ],
)  # fmt: skip
def test_a_list_that_breaks_a_component_is_refused(
    listed: list[str], uses: list[str], message: str
) -> None:
    with pytest.raises(BackendError) as error:
        endpoint_roles(listed, uses)
    assert message in str(error.value)


def _endpoints(spec: dict[str, Any]) -> dict[str, str]:
    run = run_aws({"network": {"create": True}, **spec})
    return {
        r.name.removeprefix("mlops-"): str(r.plain_inputs()["serviceName"])
        for r in run.registrations
        if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"
    }


def test_a_batch_pool_gets_the_ecs_endpoints() -> None:
    spec = {"clusters": [{"name": "pool", "flavor": "batch"}]}
    endpoints = _endpoints(spec)
    assert {name: endpoints[name] for name in _ECS} == {
        "ecs": "com.amazonaws.eu-west-1.ecs",
        "ecs-agent": "com.amazonaws.eu-west-1.ecs-agent",
        "ecs-telemetry": "com.amazonaws.eu-west-1.ecs-telemetry",
    }
    assert set(endpoints) == {"s3", *STANDARD, *_ECS}


def test_without_batch_there_are_no_ecs_endpoints() -> None:
    spec = {"clusters": [{"name": "gpu", "gpu": "l4"}], "pipelines": [PIPELINE]}
    assert set(_endpoints(spec)) == {"s3", *STANDARD}


def test_a_chosen_list_is_what_the_network_gets() -> None:
    spec = {
        "network": {"create": True, "endpoints": ["mlflow", "logs"]},
        "clusters": [{"name": "gpu", "gpu": "l4"}],
        "pipelines": [PIPELINE],
    }
    run = run_aws(spec)
    names = {r.name for r in run.registrations if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"}
    assert names == {"mlops-s3", "mlops-mlflow", "mlops-logs"}


def test_every_catalog_service_name_is_regional() -> None:
    assert all("{region}" in service for service in CATALOG.values())
