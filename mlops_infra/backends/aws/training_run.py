"""``SageMakerTrainingRun``: a version's training job, started once, adopted, never lost.

A dynamic resource ``<job>`` keyed by the job's version (a new version replaces it) that
sends the ``CreateTrainingJob`` request the backend built and waits for the job. It stands
in for the provider's ``sagemaker.TrainingJob``, which cannot keep a version runnable:

* Training job names are unique in an account and region and SageMaker keeps every job
  (there is no delete). The provider's create waits for the job; when the job fails, or
  ``up`` is killed while it waits, nothing is saved in state, yet the name is taken, so
  every later ``up`` of that version fails on the duplicate name.
* The provider's delete detaches and deletes every network interface in the job's
  security groups and subnets (terraform-provider-aws ``deleteTrainingJobVPCENIs``): the
  shared workloads group, so other jobs', endpoints' and the tracking server's too.

Here, attempt ``n`` of a version is named ``<stack>-<job>-<version>`` (``n`` = 1) or
``...-<version>-r<n>``. Create looks at attempt 1, 2, … in turn with
``DescribeTrainingJob``: a free name is used for a new job; a job that is ``InProgress``,
``Stopping`` or ``Completed`` was started by an earlier ``up`` that never recorded it and is
adopted; a ``Failed`` or ``Stopped`` one is history, and the next attempt is looked at. Then
create waits (progress lines, the job's whole allowance plus an hour) and fails with the
job's ``FailureReason`` unless it completed; the next ``up`` starts the next attempt. The
entry point's ``mlops_execution`` hyperparameter is the attempt's name, so a new attempt
logs a new MLflow run instead of resuming the failed one's. ``refresh`` reads the job.
Delete does nothing: SageMaker keeps finished jobs, and their interfaces are released when
they end. Tags are set at create; a changed tag applies to the next version, never
re-running this one.

API reference: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
(``TrainingJobName``: "must be unique within an Amazon Web Services Region in an Amazon Web
Services account", 63 characters; ``ResourceInUse``), API_DescribeTrainingJob.html
(``TrainingJobStatus``: InProgress | Completed | Failed | Stopping | Stopped).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.aws._api import AwsApi, conform, error_code, progress
from mlops_infra.backends.aws._contract import HP_EXECUTION
from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = [
    "ATTEMPT_SUFFIX_ROOM",
    "MAX_ATTEMPTS",
    "NAME_LIMIT",
    "SageMakerTrainingRun",
    "attempt_name",
    "create_request",
    "read_job",
    "start_job",
]

MAX_ATTEMPTS = 99
"""Attempts of one version looked at before giving up (``-r99``: the suffix has room)."""

NAME_LIMIT = 63
"""Longest training job name SageMaker accepts."""

ATTEMPT_SUFFIX_ROOM = f"-r{MAX_ATTEMPTS}"
"""The longest suffix an attempt adds: first-attempt names leave room for it."""

_RUNNING = frozenset({"InProgress", "Stopping"})
_ADOPTABLE = _RUNNING | {"Completed"}
_DONE = frozenset({"Completed", "Failed", "Stopped"})
_OUTPUTS = ("training_job_name", "training_job_arn", "status", "failure_reason", "model_uri")
_REPLACES = ("job_name", "request", "region")
_MISSING = re.compile(r"not found|could not find", re.IGNORECASE)


def attempt_name(base: str, attempt: int) -> str:
    """The name of ``attempt`` (from 1) of the job named ``base`` for its first attempt.

    Raises:
        ValueError: ``base`` leaves no room for the suffix (``job_name`` keeps
            ``ATTEMPT_SUFFIX_ROOM`` free), or ``attempt`` is out of 1..``MAX_ATTEMPTS``.
    """
    if not 1 <= attempt <= MAX_ATTEMPTS:
        msg = f"attempt {attempt} is out of 1..{MAX_ATTEMPTS}"
        raise ValueError(msg)
    name = base if attempt == 1 else f"{base}-r{attempt}"
    if len(name) > NAME_LIMIT:
        msg = f"training job name {name!r} is longer than {NAME_LIMIT} characters"
        raise ValueError(msg)
    return name


def _describe(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(sm.describe_training_job(TrainingJobName=name))
    except Exception as error:
        # SageMaker answers a name it does not know with a ValidationException.
        if error_code(error) == "ValidationException" and _MISSING.search(str(error)):
            return None
        raise


def _outputs(props: Mapping[str, Any], described: Mapping[str, Any]) -> dict[str, Any]:
    artifacts: Mapping[str, Any] = described.get("ModelArtifacts") or {}
    return {
        **{k: v for k, v in props.items() if not k.startswith("__")},
        "training_job_name": str(described["TrainingJobName"]),
        "training_job_arn": str(described["TrainingJobArn"]),
        "status": str(described["TrainingJobStatus"]),
        "failure_reason": described.get("FailureReason") or None,
        "model_uri": artifacts.get("S3ModelArtifacts"),
    }


def create_request(
    request: Mapping[str, Any], name: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """The ``CreateTrainingJob`` request of attempt ``name``, typed as botocore's model says.

    The entry point's execution id is the attempt's name, so each attempt has its own
    MLflow run.
    """
    sent: dict[str, Any] = {
        **request,
        "TrainingJobName": name,
        "HyperParameters": {**request.get("HyperParameters", {}), HP_EXECUTION: name},
    }
    if tags:
        sent["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return conform("sagemaker", "CreateTrainingJob", sent)


def _claim(
    sm: Any, base: str, request: Mapping[str, Any], tags: Mapping[str, str]
) -> tuple[str, int]:
    """Starts or adopts the first attempt that is not history; returns its name and number."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        name = attempt_name(base, attempt)
        described = _describe(sm, name)
        if described is None:
            try:
                sm.create_training_job(**create_request(request, name, tags))
            except Exception as error:
                if error_code(error) != "ResourceInUse":
                    raise
                described = _describe(sm, name)  # another up started it in between
                if described is None:
                    raise
            else:
                progress(f"training job {name}: started (attempt {attempt})")
                return name, attempt
        status = str(described["TrainingJobStatus"])
        if status in _ADOPTABLE:
            progress(f"training job {name}: {status}, started by an earlier up; adopted")
            return name, attempt
        progress(
            f"training job {name}: {status} earlier "
            f"({described.get('FailureReason') or 'no reason given'}); trying the next attempt"
        )
    msg = f"training job {base}: {MAX_ATTEMPTS} attempts have failed; deploy a new version"
    raise RuntimeError(msg)


def start_job(api: AwsApi, props: Mapping[str, Any]) -> dict[str, Any]:
    """Starts (or adopts) the version's job and waits for it.

    Raises:
        RuntimeError: the job failed or was stopped (the next ``up`` starts a new attempt).
        TimeoutError: the job did not finish within ``timeout_s`` (it goes on; the next
            ``up`` adopts it).
    """
    sm = api.client("sagemaker")
    base = str(props["job_name"])
    name, attempt = _claim(sm, base, props["request"], props.get("tags") or {})
    described: Mapping[str, Any] = {}

    def poll() -> tuple[bool, str]:
        nonlocal described
        described = sm.describe_training_job(TrainingJobName=name)
        status = str(described["TrainingJobStatus"])
        secondary = described.get("SecondaryStatus")
        return status in _DONE, f"{status} ({secondary})" if secondary else status

    api.wait(f"training job {name}", poll, float(props["timeout_s"]))
    status = str(described["TrainingJobStatus"])
    if status != "Completed":
        following = (
            f"the next up starts attempt {attempt + 1} as {attempt_name(base, attempt + 1)}"
            if attempt < MAX_ATTEMPTS
            else "no attempt is left; deploy a new version"
        )
        msg = (
            f"training job {name} {status}: "
            f"{described.get('FailureReason') or 'no reason given'}; {following}"
        )
        raise RuntimeError(msg)
    return _outputs(props, described)


def read_job(api: AwsApi, outs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs with the job's state as SageMaker reports it now (``refresh``)."""
    described = _describe(api.client("sagemaker"), str(outs["training_job_name"]))
    if described is None:
        return {**outs, "status": "NotFound"}
    return _outputs(outs, described)


class _RunProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = start_job(AwsApi(region=props.get("region")), props)
        return CreateResult(id_=str(outs["training_job_arn"]), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key, value in news.items()
            if not key.startswith("__") and key not in _OUTPUTS and olds.get(key) != value
        ]  # fmt: skip
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k in _REPLACES])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Tags or the wait changed: the job is what it was (tags apply to the next version).
        return UpdateResult(outs={**news, **{k: olds.get(k) for k in _OUTPUTS}})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, read_job(AwsApi(region=props.get("region")), props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        del props  # SageMaker keeps jobs; the provider's ENI sweep is what this avoids


class SageMakerTrainingRun(Resource, module="mlops", name="SageMakerTrainingRun"):
    """The training job of one version (see the module).

    Inputs: ``job_name`` (attempt 1's name), ``request`` (``CreateTrainingJob`` without the
    name), ``region``, ``timeout_s`` (how long ``up`` waits), ``tags`` (set at create).
    """

    training_job_name: pulumi.Output[str]
    """Name of the attempt that ran (``job_name``, or ``job_name-r<n>`` after failures)."""

    training_job_arn: pulumi.Output[str]
    """Its ARN."""

    status: pulumi.Output[str]
    """Its status when last read (``Completed`` after ``up``)."""

    model_uri: pulumi.Output[str | None]
    """``s3://`` URI of the model archive the job wrote."""

    def __init__(
        self,
        name: str,
        inputs: Mapping[str, pulumi.Input[Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the run ``name``."""
        super().__init__(_RunProvider(), name, {**inputs, **dict.fromkeys(_OUTPUTS)}, opts)
