"""Pipeline: DAG → SageMaker definition, versioned package, schedule; cron conversion."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws._schedule import eventbridge_cron
from mlops_infra.backends.aws.mlflow_auth import CLIENT_AUTH
from mlops_infra.backends.aws.testing import AwsMocks
from mlops_infra.errors import BackendError
from mlops_infra.specs import PipelineSpec
from mlops_infra.versioning import pipeline_manifest

from .helpers import PIPELINE, REPO, children, run_aws

COMPONENT = "mlops:index:Pipeline"
RUN = "pulumi-python:dynamic/mlops:SageMakerPipelineRun"
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
IMAGE = "pulumi-python:dynamic/mlops:ImageBuild"


def _spec(**pipeline: Any) -> dict[str, Any]:
    return {
        "clusters": [{"name": "gpu", "gpu": "l4", "spot": True}],
        "pipelines": [{**PIPELINE, **pipeline}],
    }


def _version(**pipeline: Any) -> str:
    return pipeline_manifest(PipelineSpec.model_validate({**PIPELINE, **pipeline}), REPO).version


def test_children() -> None:
    run = run_aws(_spec(schedule={"cron": "0 3 * * 1", "timezone": "Europe/Paris"}))
    kinds = children(run, COMPONENT, "mlops-pipeline-diagnosis")
    assert {(t, n) for t, n in kinds if not t.startswith("aws:s3/bucketObjectv2")} == {
        ("aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis"),
        ("aws:iam/role:Role", "mlops-pipeline-diagnosis-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-pipeline-diagnosis-role-policy"),
        ("aws:iam/role:Role", "mlops-pipeline-diagnosis-scheduler"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-pipeline-diagnosis-scheduler-policy"),
        ("aws:scheduler/schedule:Schedule", "mlops-pipeline-diagnosis-schedule"),
        (RUN, "mlops-pipeline-diagnosis-run"),
        # The runtime image of the steps, built by the stack.
        ("aws:iam/role:Role", "mlops-pipeline-diagnosis-builder-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-pipeline-diagnosis-builder-role-policy"),
        ("aws:codebuild/project:Project", "mlops-pipeline-diagnosis-builder"),
        (IMAGE, "mlops-pipeline-diagnosis-runtime-image"),
    }
    objects = {n for t, n in kinds if t.startswith("aws:s3/bucketObjectv2")}
    assert {
        "mlops-pipeline-diagnosis-runtime-context",
        "mlops-pipeline-diagnosis-manifest",
        "mlops-pipeline-diagnosis-code-diagnosis-train.py",
    } <= objects


def test_definition_is_the_dag() -> None:
    version = _version()
    run = run_aws(_spec())
    pipeline = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )
    assert pipeline["pipelineName"] == "dev-diagnosis"
    assert pipeline["parallelismConfiguration"] == {"maxParallelExecutionSteps": 4}
    assert pipeline["tags"]["mlops-version"] == version
    definition = pipeline["pipelineDefinition"]
    assert definition["Version"] == "2020-12-01"
    steps = {s["Name"]: s for s in definition["Steps"]}
    assert list(steps) == ["featurize", "train", "evaluate"]
    assert "DependsOn" not in steps["featurize"]
    assert steps["train"]["DependsOn"] == ["featurize"]
    train = steps["train"]["Arguments"]
    assert train["ResourceConfig"]["InstanceType"] == "ml.g6.xlarge"
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert "CheckpointConfig" in train
    upstream = [c for c in train["InputDataConfig"] if c["ChannelName"] == "step-featurize"]
    assert upstream[0]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.featurize.ModelArtifacts.S3ModelArtifacts"
    }
    code = next(c for c in train["InputDataConfig"] if c["ChannelName"] == "code")
    assert code["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"s3://dev-mlops-store-abc123/pipelines/diagnosis/{version}/code/"
    )
    assert steps["train"]["RetryPolicies"][0]["MaxAttempts"] == 2
    featurize = steps["featurize"]["Arguments"]
    assert featurize["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert featurize["EnableManagedSpotTraining"] is False
    assert featurize["HyperParameters"]["mlops_execution"] == {
        "Get": "Execution.PipelineExecutionId"
    }
    assert featurize["RoleArn"].startswith(
        "arn:aws:iam::123456789012:role/mlops-pipeline-diagnosis-role"
    )


def test_new_version_updates_the_definition_in_place() -> None:
    before = run_aws(_spec()).inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )
    after = run_aws(_spec(parameters={"seed": 8})).inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )
    assert before["pipelineName"] == after["pipelineName"]  # the name (identity) stays
    assert before["pipelineDefinition"] != after["pipelineDefinition"]


def test_pinned_version_uploads_nothing_and_points_at_its_package() -> None:
    pinned = "0123456789abcdef"
    run = run_aws(_spec(version=pinned))
    uploads = [
        r.name for r in run.registrations if r.type == "aws:s3/bucketObjectv2:BucketObjectv2"
    ]
    assert uploads == ["mlops-pipeline-diagnosis-runtime-context"]  # no package file
    definition = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )["pipelineDefinition"]
    code = next(
        c
        for c in definition["Steps"][0]["Arguments"]["InputDataConfig"]
        if c["ChannelName"] == "code"
    )
    assert pinned in code["DataSource"]["S3DataSource"]["S3Uri"]


def test_schedule_starts_only_this_pipeline() -> None:
    run = run_aws(
        _spec(schedule={"cron": "30 2 * * mon-fri", "timezone": "Europe/Paris", "enabled": False})
    )
    schedule = run.inputs("aws:scheduler/schedule:Schedule", "mlops-pipeline-diagnosis-schedule")
    assert schedule["scheduleExpression"] == "cron(30 2 ? * MON-FRI *)"
    assert schedule["scheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["state"] == "DISABLED"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert (
        schedule["target"]["arn"]
        == "arn:aws:sagemaker:eu-west-1:123456789012:mlops-pipeline-diagnosis"
    )
    policy = run.inputs(
        "aws:iam/rolePolicy:RolePolicy",
        "mlops-pipeline-diagnosis-scheduler-policy",
        parse_json=True,
    )
    start, decrypt = policy["policy"]["Statement"]
    assert start["Action"] == ["sagemaker:StartPipelineExecution"]
    assert start["Resource"] == [schedule["target"]["arn"]]
    # 13.8: the schedule is encrypted with the stack's key, which its role may decrypt.
    assert schedule["kmsKeyArn"] == "arn:aws:kms:eu-west-1:123456789012:key/mlops-key"
    assert (decrypt["Action"], decrypt["Resource"]) == (["kms:Decrypt"], [schedule["kmsKeyArn"]])


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 3 * * 1", "cron(0 3 ? * 2 *)"),
        ("0 3 * * 0", "cron(0 3 ? * 1 *)"),
        ("0 3 * * 7", "cron(0 3 ? * 1 *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("0 6 1 * *", "cron(0 6 1 * ? *)"),
        ("0 0 * jan,jul 1-5", "cron(0 0 ? JAN,JUL 2-6 *)"),
        ("0 */2 * * sat,sun", "cron(0 0/2 ? * SAT,SUN *)"),
    ],
)
def test_cron_to_eventbridge(cron: str, expected: str) -> None:
    assert eventbridge_cron(cron) == expected


@pytest.mark.parametrize(
    ("cron", "message"),
    [("0 3 1 * 1", "cannot combine"), ("0 3 * * */2", "cannot be expressed")],
)
def test_cron_eventbridge_cannot_express(cron: str, message: str) -> None:
    with pytest.raises(BackendError, match=message):
        eventbridge_cron(cron)


@pytest.mark.parametrize(
    ("environment", "wait"), [("dev", True), ("staging", False), ("prod", False)]
)
def test_each_version_runs_on_deploy(environment: str, wait: bool) -> None:
    spec = {**_spec(), "environment": environment}
    program = run_aws(spec)
    run = program.inputs(RUN, "mlops-pipeline-diagnosis-run")
    assert run["pipeline_name"] == f"{environment}-diagnosis"
    assert run["version"] == _version()
    assert (run["wait"], run["timeout_s"], run["model_name"]) == (wait, 7200, "diagnosis")
    assert run["client_auth"] == CLIENT_AUTH
    # The tracking server's (dev, staging) or MLflow App's (prod) ARN.
    assert run["tracking_url"] == program.outputs["tracking_url"]
    kind = "mlflow-app/app-" if environment == "prod" else f"mlflow-tracking-server/{environment}-"
    assert kind in run["tracking_url"]


def test_spec_wait_for_run_wins_over_the_tier() -> None:
    spec = _spec(wait_for_run=False, run_timeout_s=600)
    run = run_aws(spec).inputs(RUN, "mlops-pipeline-diagnosis-run")
    assert (run["wait"], run["timeout_s"]) == (False, 600)


def test_no_run_without_run_on_change() -> None:
    run = run_aws(_spec(run_on_change=False))
    assert not [r for r in run.registrations if r.type == RUN]


def test_version_the_run_registered_reaches_the_gate() -> None:
    spec = {
        **_spec(),
        "endpoints": [{"name": "diagnosis", "model": "diagnosis",
                       "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]}}],
    }  # fmt: skip
    run = run_aws(spec, mocks=AwsMocks(outputs={RUN: {"model_version": "5"}}))
    gate = run.inputs(GATE, "mlops-endpoint-diagnosis-gate")
    assert gate["candidate_version"] == "5"


def test_each_step_gets_every_ancestors_outputs() -> None:
    # components/diagnosis/evaluate.py reads featurize's test split: evaluate depends on train
    # only, so it must be given its ancestors' outputs, as the local runner does (found by
    # `mlops-infra rehearse --stack dev`).
    run = run_aws(_spec())
    definition = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )["pipelineDefinition"]
    evaluate = next(s for s in definition["Steps"] if s["Name"] == "evaluate")
    channels = {c["ChannelName"]: c for c in evaluate["Arguments"]["InputDataConfig"]}
    assert channels["step-featurize"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.featurize.ModelArtifacts.S3ModelArtifacts"
    }
    assert channels["step-train"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"
    }
    assert evaluate["Arguments"]["HyperParameters"]["mlops_inputs"] == '["featurize", "train"]'
    assert evaluate["DependsOn"] == ["train"]


def test_a_file_data_reference_names_the_file_in_its_channel() -> None:
    # SageMaker delivers a channel as a folder (/opt/ml/input/data/<channel>/<key suffix>),
    # https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html;
    # a component reading one file must be handed the file, as the local runner does.
    run = run_aws(_spec())
    definition = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )["pipelineDefinition"]
    featurize = next(s for s in definition["Steps"] if s["Name"] == "featurize")
    assert featurize["Arguments"]["HyperParameters"]["mlops_data"] == (
        '{"breast_cancer": "channel:data-breast_cancer/breast_cancer.csv"}'
    )


@pytest.mark.parametrize("count", [0, 5, 8])
def test_package_objects_stay_within_s3s_ten_tags(count: int) -> None:
    stack_tags = {f"team-{i}": str(i) for i in range(count)}
    run = run_aws({**_spec(), "tags": stack_tags})
    objects = [r for r in run.registrations if r.type == "aws:s3/bucketObjectv2:BucketObjectv2"]
    assert objects
    for registration in objects:
        tags = registration.plain_inputs(parse_json=True)["tags"]
        assert len(tags) <= 10
        assert {"mlops-stack", "mlops-component", "managed-by", "mlops-environment"} <= set(tags)
        assert "mlops-version" in tags or "mlops-image" in tags
        # The stack's tags fill the remaining places, in name order.
        kept = sorted(k for k in tags if k.startswith("team-"))
        assert kept == sorted(stack_tags)[: len(kept)]
        assert len(kept) == min(count, 5)
    bucket = (
        run.inputs("aws:s3/bucketV2:BucketV2", "mlops-store")
        if [r for r in run.registrations if r.type == "aws:s3/bucketV2:BucketV2"]
        else run.inputs("aws:s3/bucket:Bucket", "mlops-store")
    )
    assert set(stack_tags) <= set(bucket["tags"])  # everything else keeps them all


def test_sagemaker_experiments_are_off_so_the_role_needs_none_of_their_actions() -> None:
    """13.11: a `PipelineExperimentConfig` makes SageMaker create an experiment and a trial
    per execution with the pipeline role; null (the SDK's `pipeline_experiment_config=None`)
    turns that off, and MLflow tracks the runs."""
    run = run_aws(_spec())
    definition = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )
    assert definition["pipelineDefinition"]["PipelineExperimentConfig"] is None
    policy = run.inputs(
        "aws:iam/rolePolicy:RolePolicy", "mlops-pipeline-diagnosis-role-policy", parse_json=True
    )
    actions = {a for s in policy["policy"]["Statement"] for a in s["Action"]}
    sagemaker = {a for a in actions if a.startswith("sagemaker:")}
    assert not {a for a in sagemaker if "Experiment" in a or "Trial" in a}


def test_only_the_steps_nothing_depends_on_end_the_pipeline_run() -> None:
    # The lineage run is ended by the last step (FINISHED) or a failing one (FAILED), as on
    # GCP; until the train step stopped opening it with `mlflow.start_run`, MLflow closed it
    # there by accident, and after that nothing did.
    run = run_aws(_spec())
    definition = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )["pipelineDefinition"]
    final = {
        s["Name"]: s["Arguments"]["HyperParameters"].get("mlops_final") for s in definition["Steps"]
    }
    assert final == {"featurize": None, "train": None, "evaluate": "true"}
