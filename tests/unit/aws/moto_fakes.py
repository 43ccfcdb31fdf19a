"""moto, and contract fakes for the SageMaker calls moto does not implement.

moto 5.2 implements CreateModel, CreateEndpointConfig, CreateEndpoint, DescribeEndpoint,
the Delete* calls, StartPipelineExecution, DescribePipelineExecution,
ListPipelineExecutions and Application Auto Scaling; it has no UpdateEndpoint, its
endpoints are ``InService`` at once and its pipeline executions ``Succeeded`` at once, and
it ignores ``ClientRequestToken``. The fakes below hook botocore's ``before-call`` event:
botocore has already validated the request against the service model when it fires, so
the fakes see only requests AWS would accept in shape.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process, fake credentials, the test region."""
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def sagemaker_backend() -> Any:
    """moto's SageMaker state of the test account and region."""
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


def _answer(body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    response = AWSResponse("https://api.sagemaker.eu-west-1.amazonaws.com/", 200, {}, None)
    return response, {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


@dataclass
class EndpointUpdates:
    """UpdateEndpoint as the API reference describes it, on top of moto's endpoints.

    Also makes a new endpoint ``Creating`` for ``polls`` reads before it is ``InService``.

    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html:
    the endpoint must be ``InService`` (else ``ValidationException``), its status becomes
    ``Updating``, then ``InService`` on the new configuration; with an auto-rollback alarm
    that fires (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html)
    it returns to ``InService`` on the old configuration, with a ``FailureReason``
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html).

    Attributes:
        outcome: ``succeed`` or ``roll back`` (what the next update does).
        polls: DescribeEndpoint answers that still say ``Updating``.
        requests: The UpdateEndpoint requests received.
    """

    outcome: str = "succeed"
    polls: int = 1
    requests: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    _pending: dict[str, tuple[str, int]] = field(default_factory=dict[str, tuple[str, int]])

    def install(self, client: Any) -> None:
        """Hooks the fake into ``client`` (a boto3 SageMaker client)."""
        client.meta.events.register("before-call.sagemaker.UpdateEndpoint", self._update)
        client.meta.events.register("before-call.sagemaker.DescribeEndpoint", self._describe)
        client.meta.events.register("after-call.sagemaker.CreateEndpoint", self._created)

    def _created(self, parsed: dict[str, Any], **_: Any) -> None:
        # A new endpoint is ``Creating`` first (moto makes it ``InService`` at once).
        name = str(parsed["EndpointArn"]).rsplit("/", 1)[-1]
        endpoint = sagemaker_backend().endpoints[name]
        endpoint.endpoint_status = "Creating"
        self._pending[name] = (endpoint.endpoint_config_name, self.polls)

    def _update(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        from botocore.exceptions import ClientError

        request = json.loads(params["body"])
        self.requests.append(request)
        backend = sagemaker_backend()
        endpoint = backend.endpoints.get(request["EndpointName"])
        if endpoint is None or endpoint.endpoint_status != "InService":
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "cannot update"}},
                "UpdateEndpoint",
            )
        if request["EndpointConfigName"] not in backend.endpoint_configs:
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "no such config"}},
                "UpdateEndpoint",
            )
        endpoint.endpoint_status = "Updating"
        self._pending[endpoint.endpoint_name] = (request["EndpointConfigName"], self.polls)
        return _answer({"EndpointArn": endpoint.arn})

    def _describe(self, params: dict[str, Any], **_: Any) -> None:
        name = json.loads(params["body"])["EndpointName"]
        if name not in self._pending:
            return
        config, left = self._pending[name]
        endpoint = sagemaker_backend().endpoints[name]
        if left > 0:
            self._pending[name] = (config, left - 1)
            return
        del self._pending[name]
        endpoint.endpoint_status = "InService"
        if self.outcome == "succeed":
            endpoint.endpoint_config_name = config
        else:
            endpoint.failure_reason = "Rolled back: alarm prod-diagnosis-5xx went into ALARM"


@dataclass
class Requests:
    """The requests a client sent (after botocore validated them), by operation name."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list[tuple[str, dict[str, Any]]])

    def install(self, client: Any) -> None:
        """Records every request of ``client``."""
        client.meta.events.register("before-call", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        body = params.get("body") or b"{}"
        self.sent.append((model.name, json.loads(body) if body else {}))

    def of(self, operation: str) -> list[dict[str, Any]]:
        """The requests of ``operation``, in order."""
        return [body for name, body in self.sent if name == operation]


@dataclass
class CodeBuildRuns:
    """What a CodeBuild image build does, on top of moto's CodeBuild.

    moto finishes every build at once and runs nothing. Here a build stays
    ``IN_PROGRESS`` for ``polls`` BatchGetBuilds answers, then ends ``outcome``; on success
    it pushes the image its ``IMAGE_TAG`` variable names to the ECR repository, as the
    project's buildspec does (https://docs.aws.amazon.com/codebuild/latest/userguide/sample-docker.html).

    Attributes:
        repository: ECR repository the build pushes to.
        polls: Answers a build stays in progress.
        outcome: ``SUCCEEDED`` or ``FAILED``.
        started: The StartBuild requests received.
    """

    repository: str
    polls: int = 1
    outcome: str = "SUCCEEDED"
    started: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    _left: dict[str, int] = field(default_factory=dict[str, int])
    _tags: dict[str, str] = field(default_factory=dict[str, str])

    def install(self, client: Any) -> None:
        """Hooks the fake into ``client`` (a boto3 CodeBuild client)."""
        client.meta.events.register("before-call.codebuild.StartBuild", self._start)
        client.meta.events.register("after-call.codebuild.StartBuild", self._started)
        client.meta.events.register("after-call.codebuild.BatchGetBuilds", self._get)

    def _start(self, params: dict[str, Any], **_: Any) -> None:
        self.started.append(json.loads(params["body"]))

    def _started(self, parsed: dict[str, Any], **_: Any) -> None:
        request = self.started[-1]
        variables = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
        self._left[parsed["build"]["id"]] = self.polls
        self._tags[parsed["build"]["id"]] = variables["IMAGE_TAG"]

    def _get(self, parsed: dict[str, Any], **_: Any) -> None:
        import boto3

        for build in parsed.get("builds", []):
            left = self._left.get(build["id"], 0)
            self._left[build["id"]] = left - 1
            if left > 0:
                build["buildStatus"], build["currentPhase"] = "IN_PROGRESS", "BUILD"
                continue
            build["buildStatus"] = self.outcome
            if self.outcome == "SUCCEEDED" and left == 0:
                boto3.client("ecr", region_name=REGION).put_image(
                    repositoryName=self.repository,
                    imageManifest=json.dumps(
                        {
                            "schemaVersion": 2,
                            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                            "layers": [],
                        }
                    ),
                    imageTag=self._tags[build["id"]],
                )


@dataclass
class TrainingJobs:
    """What a SageMaker training job does over time, on top of moto's training jobs.

    moto completes every job at once and accepts a name twice. Here, as the API reference
    describes: a name already used in the account and region is refused with
    ``ResourceInUse`` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html:
    "The name must be unique within an Amazon Web Services Region in an Amazon Web Services
    account"); a new job is ``InProgress`` for ``polls`` DescribeTrainingJob answers, then
    ends ``Completed``, or ``Failed`` with a ``FailureReason`` when its name is in
    ``failing`` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeTrainingJob.html).
    ``exists`` declares a job an earlier ``up`` started, in any status.

    Attributes:
        polls: Answers a new job stays ``InProgress``.
        failing: Job names that fail, with their failure reason.
        created: The CreateTrainingJob requests received (botocore-validated).
    """

    polls: int = 1
    failing: dict[str, str] = field(default_factory=dict[str, str])
    created: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    _left: dict[str, int] = field(default_factory=dict[str, int])
    _final: dict[str, tuple[str, str | None]] = field(
        default_factory=dict[str, tuple[str, str | None]]
    )

    def install(self, client: Any) -> None:
        """Hooks the fake into ``client`` (a boto3 SageMaker client)."""
        client.meta.events.register("before-call.sagemaker.CreateTrainingJob", self._create)
        client.meta.events.register("after-call.sagemaker.DescribeTrainingJob", self._describe)

    def exists(self, client: Any, request: dict[str, Any], name: str, status: str) -> None:
        """Makes ``name`` a job an earlier ``up`` started, now ``status``.

        An ``InProgress`` one goes on for ``polls`` answers, then completes.
        """
        client.create_training_job(**request, TrainingJobName=name)
        self.created.pop()
        if status == "InProgress":
            return
        self._left.pop(name)
        reason = "AlgorithmError: earlier attempt" if status in ("Failed", "Stopped") else None
        self._final[name] = (status, reason)

    def _create(self, params: dict[str, Any], **_: Any) -> None:
        from botocore.exceptions import ClientError

        request = json.loads(params["body"])
        name = request["TrainingJobName"]
        if name in sagemaker_backend().training_jobs:
            raise ClientError(
                {"Error": {"Code": "ResourceInUse", "Message": f"Training job {name} exists"}},
                "CreateTrainingJob",
            )
        self.created.append(request)
        self._left[name] = self.polls
        if name in self.failing:
            self._final[name] = ("Failed", self.failing[name])
        else:
            self._final[name] = ("Completed", None)

    def _describe(self, parsed: dict[str, Any], **_: Any) -> None:
        name = parsed.get("TrainingJobName")
        if name not in self._final:
            return
        left = self._left.get(name, 0)
        if left > 0:
            self._left[name] = left - 1
            parsed["TrainingJobStatus"], parsed["SecondaryStatus"] = "InProgress", "Training"
            return
        status, reason = self._final[name]
        parsed["TrainingJobStatus"] = status
        parsed["SecondaryStatus"] = status
        if reason:
            parsed["FailureReason"] = reason


def as_engine_sends(value: Any) -> Any:
    """``value`` as the engine hands it to a dynamic provider: every number a double.

    Inputs travel in protobuf's ``Struct``, whose only number type is a double
    (https://protobuf.dev/reference/protobuf/google.protobuf/#value).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: as_engine_sends(v) for k, v in typing.cast(dict[str, Any], value).items()}
    if isinstance(value, list):
        return [as_engine_sends(v) for v in typing.cast(list[Any], value)]
    return value
