"""The example AWS stacks (dev, staging, prod) validate, synthesize, and protect prod's state."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from functools import cache

import pytest

from mlops_infra import load_stack_file
from mlops_infra.backends.aws.testing import AwsMocks, served
from mlops_infra.offline import ProgramRun
from mlops_infra.specs.loading import read_stack_file

from .helpers import EVERY_FLAVOR, REPO, STACKS, aws_registry, custom, run_aws

ENVIRONMENTS = ("dev", "staging", "prod")

#: Resources holding state that outlives a deployment: data, keys, images, tracking data.
STATEFUL = {
    ("aws:s3/bucket:Bucket", "mlops-store"),
    ("aws:kms/key:Key", "mlops-store-key"),
    ("aws:kms/key:Key", "mlops-key"),
    ("aws:ecr/repository:Repository", "mlops-registry"),
}


def _run(environment: str) -> ProgramRun:
    spec = load_stack_file(STACKS / f"Pulumi.{environment}.yaml", registry=aws_registry())
    return run_aws(spec, stack=environment)


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {environment: _run(environment) for environment in ENVIRONMENTS}


def test_cli_validates_the_example_stacks() -> None:
    files = [str(STACKS / f"Pulumi.{e}.yaml") for e in ENVIRONMENTS]
    result = subprocess.run(
        [sys.executable, "-m", "mlops_infra.cli", "validate", *files],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_concept_synthesizes(runs: dict[str, ProgramRun], environment: str) -> None:
    run = runs[environment]
    components = {(r.type, r.name) for r in run.registrations if not r.custom}
    assert components == {
        ("mlops:index:MlopsStack", "mlops"),
        ("mlops:index:Foundation", "mlops"),
        ("mlops:index:ArtifactStore", "mlops-store"),
        ("mlops:index:TrackingServer", "mlops-tracking"),
        ("mlops:index:TrainingCluster", "mlops-cluster-train"),
        ("mlops:index:Pipeline", "mlops-pipeline-diagnosis"),
        ("mlops:index:ServingEndpoint", "mlops-endpoint-diagnosis"),
    }
    types = {r.type for r in custom(run)}
    assert {
        "aws:s3/bucket:Bucket",
        "aws:sagemaker/pipeline:Pipeline",
        "aws:scheduler/schedule:Schedule",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "pulumi-python:dynamic/mlops:SageMakerDeployment",
    } <= types
    tracking = {
        "dev": "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
        "staging": "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
        "prod": "aws:sagemaker/mlflowApp:MlflowApp",
    }[environment]
    assert tracking in types
    assert ("aws:ec2/vpc:Vpc" in types) is (environment == "prod")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_taggable_resource_carries_the_stack_tags(
    runs: dict[str, ProgramRun], environment: str
) -> None:
    for registration in custom(runs[environment]):
        tags = registration.plain_inputs().get("tags")
        if tags is None:
            continue
        assert tags["managed-by"] == "mlops-infra", registration.name
        assert tags["mlops-environment"] == environment, registration.name
        assert tags["mlops-stack"] == environment, registration.name
        assert tags["team"] == "ml-platform", registration.name


def test_prod_stateful_resources_are_protected_and_retained(runs: dict[str, ProgramRun]) -> None:
    run = runs["prod"]
    stateful = STATEFUL | {
        ("aws:s3/bucket:Bucket", "mlops-store-logs"),
        ("aws:sagemaker/mlflowApp:MlflowApp", "mlops-tracking"),
        # The VPC's flow logs (13.8): data, kept with the stack's other records.
        ("aws:cloudwatch/logGroup:LogGroup", "mlops-flow-logs"),
    }
    for type_token, name in stateful:
        registration = run.one(type_token, name)
        assert registration.protect, (type_token, name)
        assert registration.retain_on_delete, (type_token, name)
    protected = {(r.type, r.name) for r in custom(run) if r.protect}
    assert protected == stateful  # and nothing else: stateless children stay replaceable


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_lower_environments_are_not_protected(
    runs: dict[str, ProgramRun], environment: str
) -> None:
    assert not [r.name for r in custom(runs[environment]) if r.protect or (r.retain_on_delete and
                not r.type.startswith("aws:s3/bucketObjectv2"))]  # fmt: skip


def test_prod_gate_requires_staging_and_thresholds(runs: dict[str, ProgramRun]) -> None:
    gate = runs["prod"].inputs(
        "pulumi-python:dynamic/mlops:PromotionDecision", "mlops-endpoint-diagnosis-gate"
    )["gate"]
    assert gate["passed_in"] == ["staging"]
    assert {c["metric"] for c in gate["conditions"]} == {"accuracy", "roc_auc"}
    deployment = runs["prod"].inputs(
        "pulumi-python:dynamic/mlops:SageMakerDeployment", "mlops-endpoint-diagnosis-deployment"
    )
    routing = deployment["deployment_config"]["BlueGreenUpdatePolicy"]
    assert routing["TrafficRoutingConfiguration"]["CanarySize"] == {
        "Type": "CAPACITY_PERCENT",
        "Value": 10,
    }


def test_dev_is_cheap(runs: dict[str, ProgramRun]) -> None:
    definition = runs["dev"].inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )["pipelineDefinition"]
    train = next(s for s in definition["Steps"] if s["Name"] == "train")["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    bucket = runs["dev"].inputs("aws:s3/bucket:Bucket", "mlops-store")
    assert bucket["forceDestroy"] is True


#: SageMaker instance families offered in each example's region, per Amazon SageMaker AI
#: pricing (https://aws.amazon.com/sagemaker/ai/pricing/, "On-Demand Pricing", region
#: selector: Europe (Ireland)). Only the families the examples use are listed.
DOCUMENTED_FAMILIES = {"eu-west-1": {"ml.m5"}}


def _instance_types(run: ProgramRun) -> dict[str, str]:
    """Every SageMaker instance type the stack trains or serves on, by where it is set."""
    found: dict[str, str] = {}
    for registration in custom(run):
        plain = registration.plain_inputs(parse_json=True)
        if registration.type == "aws:sagemaker/pipeline:Pipeline":
            for step in plain["pipelineDefinition"]["Steps"]:
                config = step["Arguments"].get("ResourceConfig")
                if config:
                    found[f"{registration.name}/{step['Name']}"] = config["InstanceType"]
        elif registration.type == "pulumi-python:dynamic/mlops:SageMakerDeployment":
            found[registration.name] = plain["instance_type"]
    return found


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("dev", {"train": "ml.m5.xlarge", "serve": "ml.m5.large"}),
        ("staging", {"train": "ml.m5.xlarge", "serve": "ml.m5.large"}),
        ("prod", {"train": "ml.m5.2xlarge", "serve": "ml.m5.large"}),
    ],
)
def test_examples_train_and_serve_the_cpu_workload_on_cpu_in_their_region(
    runs: dict[str, ProgramRun], environment: str, expected: dict[str, str]
) -> None:
    """Issue 13.10: the examples' scikit-learn model runs on CPU, on types its region offers."""
    found = _instance_types(runs[environment])
    assert found["mlops-pipeline-diagnosis/train"] == expected["train"]
    assert found["mlops-endpoint-diagnosis-deployment"] == expected["serve"]
    region = read_stack_file(STACKS / f"Pulumi.{environment}.yaml")["aws:region"]
    families = DOCUMENTED_FAMILIES[region]
    assert {t.rsplit(".", 1)[0] for t in found.values()} <= families, found


@cache
def _taggable(type_token: str) -> bool:
    _, path, name = type_token.split(":")
    cls = getattr(importlib.import_module(f"pulumi_aws.{path.split('/', maxsplit=1)[0]}"), name)
    assert cls.pulumi_type == type_token
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_every_taggable_resource_is_tagged(runs: dict[str, ProgramRun]) -> None:
    checked = 0
    for run in [*runs.values(), run_aws(EVERY_FLAVOR)]:
        for registration in custom(run):
            if registration.type.startswith("aws:") and _taggable(registration.type):
                tags = registration.plain_inputs().get("tags") or {}
                assert tags.get("managed-by") == "mlops-infra", registration.name
                checked += 1
    assert checked > 150


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_fresh_stack_deploys_with_an_empty_registry(
    runs: dict[str, ProgramRun], environment: str
) -> None:
    """Issue 11.1: a gate that never passed stops nothing; the endpoint is pending."""
    spec = load_stack_file(STACKS / f"Pulumi.{environment}.yaml", registry=aws_registry())
    mocks = AwsMocks(outputs={"pulumi-python:dynamic/mlops:PromotionDecision": served(None, None)})
    run = run_aws(spec, stack=environment, mocks=mocks)
    registered = {(r.type, r.name) for r in run.registrations}
    assert registered == {(r.type, r.name) for r in runs[environment].registrations}
    deployment = run.inputs(
        "pulumi-python:dynamic/mlops:SageMakerDeployment", "mlops-endpoint-diagnosis-deployment"
    )
    assert deployment.get("version") is None
    endpoint = run.outputs["endpoints"]["diagnosis"]
    assert (endpoint.get("url"), endpoint.get("model_version")) == (None, None)
    assert endpoint["decision"]["outcome"] == "no-candidate"
