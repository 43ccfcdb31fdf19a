"""The training run resource (13.7): every call path against moto and the training-job fake.

What the fake adds to moto (a taken name refused with ``ResourceInUse``, jobs that run for a
while and fail with a reason) follows the API reference; see ``moto_fakes.TrainingJobs``.
"""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from mlops_infra.backends.aws._api import AwsApi
from mlops_infra.backends.aws._contract import HP_EXECUTION
from mlops_infra.backends.aws.policies.sagemaker import RULES
from mlops_infra.backends.aws.training_job import job_name
from mlops_infra.backends.aws.training_run import (
    MAX_ATTEMPTS,
    attempt_name,
    create_request,
    read_job,
    start_job,
)
from mlops_infra.plan import PlannedResource, StackFacts
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Status

from .helpers import run_aws
from .moto_fakes import ACCOUNT, REGION, TrainingJobs, as_engine_sends, aws

__all__ = ["aws"]

BASE = "dev-fit-0123456789abcdef"
RUN = "pulumi-python:dynamic/mlops:SageMakerTrainingRun"
REQUEST: dict[str, Any] = {
    "AlgorithmSpecification": {
        "TrainingImage": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/dev-mlops:runtime-1",
        "TrainingInputMode": "File",
    },
    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/dev-fit-role",
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
    "OutputDataConfig": {"S3OutputPath": "s3://dev-store/jobs/fit/0123456789abcdef/output/"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "HyperParameters": {HP_EXECUTION: BASE, "mlops_version": "0123456789abcdef"},
}


@pytest.fixture
def api(aws: None) -> AwsApi:
    del aws
    return AwsApi(region=REGION, poll_s=0, sleep=lambda _s: None)


@pytest.fixture
def jobs(api: AwsApi) -> TrainingJobs:
    fake = TrainingJobs(polls=2)
    fake.install(api.client("sagemaker"))
    return fake


def _props(**changes: Any) -> dict[str, Any]:
    return as_engine_sends(
        {
            "job_name": BASE,
            "request": copy.deepcopy(REQUEST),
            "region": REGION,
            "timeout_s": 600,
            "tags": {"mlops-stack": "dev", "mlops-version": "0123456789abcdef"},
            **changes,
        }
    )


@pytest.mark.parametrize(
    ("attempt", "name"),
    [(1, BASE), (2, f"{BASE}-r2"), (MAX_ATTEMPTS, f"{BASE}-r{MAX_ATTEMPTS}")],
)
def test_attempt_names(attempt: int, name: str) -> None:
    assert attempt_name(BASE, attempt) == name


@pytest.mark.parametrize(
    ("base", "attempt", "message"),
    [
        (BASE, 0, "attempt 0 is out of 1..99"),
        (BASE, 100, "attempt 100 is out of 1..99"),
        ("x" * 62, 2, "is longer than 63 characters"),
    ],
)
def test_attempt_names_refused(base: str, attempt: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        attempt_name(base, attempt)


def test_a_long_job_name_leaves_room_for_every_attempt() -> None:
    version = "0123456789abcdef"
    base = job_name("production-eu-west", "a-very-long-training-job-name-indeed", version)
    assert base.endswith(f"-{version}")
    assert len(attempt_name(base, MAX_ATTEMPTS)) == 63


def test_a_new_version_starts_one_job_named_by_it_and_waits(
    api: AwsApi, jobs: TrainingJobs, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = start_job(api, _props())
    (request,) = jobs.created
    assert request["TrainingJobName"] == BASE
    assert request["HyperParameters"][HP_EXECUTION] == BASE
    assert {t["Key"]: t["Value"] for t in request["Tags"]} == _props()["tags"]
    assert (outs["training_job_name"], outs["status"]) == (BASE, "Completed")
    assert outs["training_job_arn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{BASE}"
    assert outs["model_uri"].endswith(f"/{BASE}/output/model.tar.gz")
    assert outs["failure_reason"] is None
    progress = capsys.readouterr().err
    assert f"training job {BASE}: started (attempt 1)" in progress
    assert f"training job {BASE}: InProgress (Training)" in progress


def test_a_job_an_earlier_up_started_is_adopted_not_started_again(
    api: AwsApi, jobs: TrainingJobs, capsys: pytest.CaptureFixture[str]
) -> None:
    # `up` was killed while it waited: the job runs on, and the state never recorded it.
    jobs.exists(api.client("sagemaker"), REQUEST, BASE, "InProgress")
    outs = start_job(api, _props())
    assert jobs.created == []
    assert (outs["training_job_name"], outs["status"]) == (BASE, "Completed")
    assert "InProgress, started by an earlier up; adopted" in capsys.readouterr().err


def test_a_completed_job_the_state_lost_is_adopted(api: AwsApi, jobs: TrainingJobs) -> None:
    jobs.exists(api.client("sagemaker"), REQUEST, BASE, "Completed")
    outs = start_job(api, _props())
    assert jobs.created == []
    assert outs["status"] == "Completed"


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_a_failed_attempt_leaves_the_version_a_new_name(
    api: AwsApi, jobs: TrainingJobs, status: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bug of 13.7: the provider's failed create kept the name, so re-running failed.
    client = api.client("sagemaker")
    jobs.exists(client, REQUEST, BASE, status)
    jobs.exists(client, REQUEST, f"{BASE}-r2", "Failed")
    outs = start_job(api, _props())
    (request,) = jobs.created
    assert request["TrainingJobName"] == f"{BASE}-r3"
    # A new attempt logs a new MLflow run rather than resuming the failed one's.
    assert request["HyperParameters"][HP_EXECUTION] == f"{BASE}-r3"
    assert outs["training_job_name"] == f"{BASE}-r3"
    assert f"training job {BASE}: {status} earlier (AlgorithmError: earlier attempt)" in (
        capsys.readouterr().err
    )


def test_a_job_that_fails_names_its_reason_and_the_next_attempt(
    api: AwsApi, jobs: TrainingJobs
) -> None:
    jobs.failing[BASE] = "AlgorithmError: ExecuteUserScriptError: exit code 1"
    with pytest.raises(RuntimeError) as raised:
        start_job(api, _props())
    assert str(raised.value) == (
        f"training job {BASE} Failed: AlgorithmError: ExecuteUserScriptError: exit code 1; "
        f"the next up starts attempt 2 as {BASE}-r2"
    )
    outs = start_job(api, _props())  # the next up
    assert [r["TrainingJobName"] for r in jobs.created] == [BASE, f"{BASE}-r2"]
    assert outs["training_job_name"] == f"{BASE}-r2"


def test_a_name_taken_in_between_is_adopted(api: AwsApi, jobs: TrainingJobs) -> None:
    client = api.client("sagemaker")

    def race(**_: Any) -> None:
        # Another `up` of the same version creates the job between Describe and Create.
        client.meta.events.unregister("before-call.sagemaker.CreateTrainingJob", race)
        jobs.exists(client, REQUEST, BASE, "InProgress")

    client.meta.events.register_first("before-call.sagemaker.CreateTrainingJob", race)
    outs = start_job(api, _props())
    assert jobs.created == []
    assert (outs["training_job_name"], outs["status"]) == (BASE, "Completed")


def test_waiting_past_the_allowance_times_out_and_the_job_goes_on(api: AwsApi) -> None:
    TrainingJobs(polls=10**6).install(api.client("sagemaker"))
    ticks = iter(range(0, 10**6, 100))
    slow = AwsApi(region=REGION, poll_s=0, sleep=lambda _s: None, clock=lambda: next(ticks))
    slow._clients = api._clients  # the same fake-equipped client
    with pytest.raises(TimeoutError, match=f"training job {BASE}: still InProgress"):
        start_job(slow, _props(timeout_s=250))


def test_refresh_reads_the_job(api: AwsApi, jobs: TrainingJobs) -> None:
    outs = start_job(api, _props())
    assert read_job(api, outs)["status"] == "Completed"
    gone = read_job(api, {**outs, "training_job_name": "dev-fit-never-ran"})
    assert gone["status"] == "NotFound"
    assert jobs.created


def test_the_generated_request_is_valid_for_botocore() -> None:
    """The request a stack plans passes botocore's model of CreateTrainingJob."""
    run = run_aws(
        {
            "network": {"create": True},
            "clusters": [
                {"name": "gpu", "gpu": "a10g", "gpu_count": 4, "max_nodes": 2, "spot": True}
            ],
            "jobs": [
                {"name": "fit", "component": "diagnosis.featurize", "cluster": "gpu", "nodes": 2}
            ],
        }
    )
    values = run.inputs(RUN, "mlops-job-fit")
    # The engine hands a dynamic provider every number as a double, as the mocks do.
    assert repr(values["request"]["ResourceConfig"]["InstanceCount"]) == "2.0"
    request = create_request(values["request"], attempt_name(values["job_name"], 2), {})
    assert repr(request["ResourceConfig"]["InstanceCount"]) == "2"
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateTrainingJob").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    assert request["VpcConfig"]["Subnets"] == ["mlops-private-0-id", "mlops-private-1-id"]
    assert request["EnableInterContainerTrafficEncryption"] is True


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        ({"VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}, Status.COMPLIANT),
        ({}, Status.NON_COMPLIANT),
    ],
)
def test_the_network_rule_reads_the_request(request_: dict[str, Any], status: Status) -> None:
    (rule,) = [r for r in RULES if r.id == "MLOPS-AWS-SAGEMAKER-005"]
    facts = StackFacts(cloud="aws", environment="dev", tier="development", network="create")
    job = PlannedResource(
        urn=f"urn:pulumi:dev::mlops::{RUN}::job", type=RUN, name="job", custom=True,
        inputs={"request": request_},
    )  # fmt: skip
    outcome = rule.evaluate(job, PolicyContext(facts=facts))
    assert outcome.status == status, outcome.message
