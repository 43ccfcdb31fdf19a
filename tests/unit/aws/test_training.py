"""Training clusters and jobs: SageMaker per-job compute, the Batch pool, versioned jobs."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws._contract import ENTRYPOINT
from mlops_infra.backends.aws.training_job import job_name
from mlops_infra.errors import BackendError
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import job_manifest

from .helpers import REPO, children, run_aws

CLUSTER = "mlops:index:TrainingCluster"
JOB = "mlops:index:TrainingJob"
RUN = "pulumi-python:dynamic/mlops:SageMakerTrainingRun"
NETWORK: dict[str, Any] = {"create": True}


@pytest.mark.parametrize(
    ("gpu", "count", "instance_type"),
    [
        ("l4", 1, "ml.g6.xlarge"),
        ("a10g", 4, "ml.g5.12xlarge"),
        ("a100-40gb", 8, "ml.p4d.24xlarge"),
        ("a100-80gb", 8, "ml.p4de.24xlarge"),
        ("h100", 8, "ml.p5.48xlarge"),
    ],
)
def test_portable_gpus_resolve_to_sagemaker_types(gpu: str, count: int, instance_type: str) -> None:
    spec = {"clusters": [{"name": "gpu", "gpu": gpu, "gpu_count": count}], "jobs": [
        {"name": "fit", "component": "diagnosis.featurize", "cluster": "gpu"}]}  # fmt: skip
    run = run_aws(spec)
    job = run.inputs(RUN, "mlops-job-fit")["request"]
    assert job["ResourceConfig"]["InstanceType"] == instance_type


def test_sagemaker_cluster_creates_nothing() -> None:
    run = run_aws({"clusters": [{"name": "gpu", "gpu": "l4", "spot": True}]})
    assert children(run, CLUSTER, "mlops-cluster-gpu") == set()


def test_sagemaker_cluster_cannot_keep_standing_nodes() -> None:
    with pytest.raises(BackendError, match="use flavor: batch"):
        run_aws({"clusters": [{"name": "gpu", "gpu": "l4", "min_nodes": 1}]})


def _job_spec(**overrides: Any) -> dict[str, Any]:
    return {
        "clusters": [{"name": "gpu", "gpu": "a10g", "spot": True}],
        "jobs": [
            {
                "name": "fit",
                "component": "diagnosis.featurize",
                "cluster": "gpu",
                "parameters": {"test_size": 0.2},
                "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
                "output_model": "fit-model",
                **overrides,
            }
        ],
    }


def test_training_job_is_named_by_its_version_and_waits_with_timeouts() -> None:
    run = run_aws(_job_spec(timeout_s=7200))
    version = job_manifest(
        TrainingJobSpec.model_validate(_job_spec(timeout_s=7200)["jobs"][0]), REPO
    ).version
    name = job_name("dev", "fit", version)
    assert name == f"dev-fit-{version}"
    assert len(name) <= 63 - len("-r99")  # room for the attempts after a failure
    job = run.one(RUN, "mlops-job-fit")
    values = job.plain_inputs()
    assert values["job_name"] == name
    assert values["timeout_s"] == 7200 * 2 + 3600  # the spot allowance, plus an hour
    assert values["tags"]["mlops-version"] == version
    request = values["request"]
    assert "TrainingJobName" not in request  # the run names each attempt
    assert request["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 7200,
        "MaxWaitTimeInSeconds": 14400,
    }
    assert request["EnableManagedSpotTraining"] is True
    assert request["CheckpointConfig"] == {
        "S3Uri": f"s3://dev-mlops-store-abc123/jobs/fit/{version}/checkpoints/"
    }
    assert request["AlgorithmSpecification"]["ContainerEntrypoint"] == ENTRYPOINT
    assert request["OutputDataConfig"] == {
        "S3OutputPath": f"s3://dev-mlops-store-abc123/jobs/fit/{version}/output/",
        "KmsKeyId": request["OutputDataConfig"]["KmsKeyId"],
    }
    assert request["OutputDataConfig"]["KmsKeyId"].endswith("key/mlops-store-key")
    # g5 has local NVMe storage (hardware-encrypted): SageMaker rejects a volume key there.
    assert "VolumeKmsKeyId" not in request["ResourceConfig"]
    # 13.7: no provider resource whose delete sweeps the shared group's interfaces.
    assert not [r for r in run.registrations if r.type.startswith("aws:sagemaker/trainingJob")]
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]}  # fmt: skip
    assert channels == {
        "code": f"s3://dev-mlops-store-abc123/jobs/fit/{version}/code/",
        "data-breast_cancer": f"s3://dev-mlops-store-abc123/jobs/fit/{version}/data/breast_cancer/",
    }
    hp = request["HyperParameters"]
    assert (hp["mlops_component"], hp["mlops_version"], hp["mlops_model_name"]) == (
        "diagnosis.featurize", version, "fit-model"
    )  # fmt: skip
    assert request["Environment"] == {
        "MLFLOW_TRACKING_URI": (
            "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/dev-mlops-tracking"
        )
    }


def test_unchanged_job_keeps_its_name_and_a_changed_one_gets_a_new_one() -> None:
    first = run_aws(_job_spec()).inputs(RUN, "mlops-job-fit")
    again = run_aws(_job_spec()).inputs(RUN, "mlops-job-fit")
    changed = run_aws(_job_spec(parameters={"test_size": 0.3})).inputs(RUN, "mlops-job-fit")
    assert first["job_name"] == again["job_name"] != changed["job_name"]
    assert first["request"] == again["request"] != changed["request"]


def test_package_objects_are_retained_when_a_version_is_replaced() -> None:
    run = run_aws(_job_spec())
    objects = [r for r in run.registrations if r.type == "aws:s3/bucketObjectv2:BucketObjectv2"]
    assert {o.name for o in objects} >= {
        "mlops-job-fit-code-diagnosis-featurize.py",
        "mlops-job-fit-manifest",
        "mlops-job-fit-data-breast_cancer-breast_cancer.csv",
    }
    assert all(o.retain_on_delete for o in objects)


def test_job_on_demand_cpu_without_cluster() -> None:
    run = run_aws({"jobs": [{"name": "fit", "component": "diagnosis.featurize"}]})
    request = run.inputs(RUN, "mlops-job-fit")["request"]
    assert request["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert request["ResourceConfig"]["VolumeKmsKeyId"].endswith("key/mlops-store-key")
    assert request["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in request


def _batch(**job: Any) -> dict[str, Any]:
    return {
        "network": NETWORK,
        "clusters": [
            {"name": "pool", "flavor": "batch", "gpu": "a10g", "max_nodes": 3, "spot": True}
        ],
        "jobs": [{"name": "fit", "flavor": "batch", "component": "diagnosis.featurize",
                  "cluster": "pool", **job}],
    }  # fmt: skip


def test_batch_pool_scales_to_zero_in_private_subnets() -> None:
    run = run_aws(_batch())
    assert children(run, CLUSTER, "mlops-cluster-pool") == {
        ("aws:batch/computeEnvironment:ComputeEnvironment", "mlops-cluster-pool"),
        ("aws:batch/jobQueue:JobQueue", "mlops-cluster-pool-queue"),
        ("aws:ec2/launchTemplate:LaunchTemplate", "mlops-cluster-pool-hosts"),
        ("aws:iam/instanceProfile:InstanceProfile", "mlops-cluster-pool-instance-profile"),
        ("aws:iam/role:Role", "mlops-cluster-pool-instance-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-cluster-pool-instance-role-policy"),
    }
    environment = run.one("aws:batch/computeEnvironment:ComputeEnvironment", "mlops-cluster-pool")
    resources = environment.plain_inputs()["computeResources"]
    assert (resources["minVcpus"], resources["maxVcpus"]) == (0, 12)
    assert (resources["type"], resources["instanceTypes"]) == ("SPOT", ["g5.xlarge"])
    assert resources["ec2Configurations"] == [{"imageType": "ECS_AL2023_NVIDIA"}]
    assert resources["subnets"] == ["mlops-private-0-id", "mlops-private-1-id"]
    assert environment.ignore_changes == ("computeResources.desiredVcpus",)
    template = run.inputs("aws:ec2/launchTemplate:LaunchTemplate", "mlops-cluster-pool-hosts")
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


def test_batch_job_registers_a_versioned_definition() -> None:
    run = run_aws(_batch())
    definition = run.inputs(
        "aws:batch/jobDefinition:JobDefinition", "mlops-job-fit", parse_json=True
    )
    assert definition["name"].startswith("dev-fit-")
    container = definition["containerProperties"]
    assert container["command"] == ENTRYPOINT
    assert {r["type"]: r["value"] for r in container["resourceRequirements"]} == {
        "VCPU": "4", "MEMORY": str(int(16 * 1024 * 0.85)), "GPU": "1"
    }  # fmt: skip
    assert definition["retryStrategy"] == {"attempts": 3}
    assert definition["timeout"] == {"attemptDurationSeconds": 3600}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"clusters": [{"name": "pool", "flavor": "batch", "gpu": "l4"}]}, "private network"),
        ({**_batch(), "jobs": [{"name": "fit", "component": "diagnosis.featurize",
                                "cluster": "pool"}]}, "is not SageMaker compute"),
        (_batch(nodes=2), "multi-node Batch jobs are not supported"),
    ],
)  # fmt: skip
def test_misplaced_work_is_refused(spec: dict[str, Any], message: str) -> None:
    if "nodes" in str(spec.get("jobs")):
        spec = {**spec, "clusters": [{**spec["clusters"][0], "max_nodes": 3}]}
    with pytest.raises(BackendError, match=message):
        run_aws(spec)
