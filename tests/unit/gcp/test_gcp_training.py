"""Training clusters and jobs on GCP under mocks: Vertex shapes, GKE pools, per-version jobs."""

from __future__ import annotations

from typing import Any

import pytest
from gcp_mocks import (
    ACCOUNT,
    BUCKET_IAM,
    DYNAMIC,
    NUMBER,
    OBJECT,
    PROJECT,
    REGION,
    REPO,
    SECRET_IAM,
    SECRET_VERSION,
    SERVICE_IAM,
    base_spec,
    synth,
)

from mlops_infra.backends.gcp.container_entry import RUNTIME_REQUIREMENTS
from mlops_infra.errors import BackendError
from mlops_infra.images import component_requirements, runtime_source
from mlops_infra.offline import ProgramRun
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import job_manifest

VERTEX_JOB = DYNAMIC + "GcpVertexCustomJob"
CLOUD_RUN_JOB = "gcp:cloudrunv2/job:Job"

JOBS: list[dict[str, Any]] = [
    {
        "name": "tune",
        "component": "diagnosis.train",
        "cluster": "gpu",
        "nodes": 2,
        "output_model": "tuned",
        "parameters": {"c": 2},
        "environment_variables": {"LOG_LEVEL": "info"},
        "timeout_s": 7200,
    },
    {"name": "quick", "flavor": "cloud-run", "component": "diagnosis.train", "cluster": "l4"},
]


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    spec = base_spec(
        "dev",
        clusters=[
            {"name": "gpu", "gpu": "a100-80gb", "gpu_count": 8, "max_nodes": 2, "spot": True},
            {"name": "l4", "gpu": "l4"},
            {
                "name": "gke",
                "flavor": "gke",
                "gpu": "t4",
                "gpu_count": 2,
                "max_nodes": 4,
                "spot": True,
            },
        ],
        jobs=JOBS,
    )
    return synth(spec)


def _job(run: ProgramRun) -> dict[str, Any]:
    return run.inputs(VERTEX_JOB, "mlops-job-tune")["job"]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in container["env"]}


def test_vertex_cluster_creates_nothing_standing(run: ProgramRun) -> None:
    cluster = run.one("mlops:index:TrainingCluster", "mlops-cluster-gpu")
    assert run.children_of(cluster) == []


def test_vertex_cluster_keeps_no_warm_nodes() -> None:
    spec = base_spec("dev", clusters=[{"name": "gpu", "gpu": "l4", "min_nodes": 1, "max_nodes": 2}])
    with pytest.raises(BackendError, match="flavor: gke"):
        synth(spec)


def test_h200_on_vertex_with_a_network_is_refused_with_what_works() -> None:
    """14.7: A3 Ultra (H200) custom jobs cannot join a network by VPC peering."""
    spec = base_spec("dev", clusters=[{"name": "big", "gpu": "h200", "gpu_count": 8}])
    with pytest.raises(BackendError) as error:
        synth(spec)
    assert str(error.value) == (
        "mlops-cluster-big: gpu h200 runs on a3-ultragpu-8g, which Vertex AI cannot peer into "
        "the stack's network (A3 Ultra/Mega custom jobs need a Private Service Connect "
        "interface); use gpu: h100 (a3-highgpu-8g), or flavor: gke for this cluster"
    )


def test_h100_on_vertex_with_a_network_is_fine() -> None:
    spec = base_spec("dev", clusters=[{"name": "big", "gpu": "h100", "gpu_count": 8}])
    synth(spec)


def test_gke_pool_scales_to_zero_on_spot_gpus(run: ProgramRun) -> None:
    cluster = run.inputs("gcp:container/cluster:Cluster", "mlops-cluster-gke")
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert cluster["deletionProtection"] is False
    pool = run.one("gcp:container/nodePool:NodePool", "mlops-cluster-gke-pool")
    config = pool.plain_inputs()
    assert config["autoscaling"] == {
        "totalMinNodeCount": 0,
        "totalMaxNodeCount": 4,
        "locationPolicy": "ANY",
    }
    node = config["nodeConfig"]
    assert node["machineType"] == "n1-standard-16"
    assert node["spot"] is True
    accelerator = node["guestAccelerators"][0]
    assert (accelerator["type"], accelerator["count"]) == ("nvidia-tesla-t4", 2)
    assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "LATEST"}
    assert node["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}
    ]
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert "initialNodeCount" in pool.ignore_changes
    role = run.inputs("gcp:projects/iAMMember:IAMMember", "mlops-cluster-gke-nodes-role")
    assert role["role"] == "roles/container.defaultNodeServiceAccount"


def test_vertex_job_runs_the_content_version_on_the_cluster_shape(run: ProgramRun) -> None:
    job_component = run.one("mlops:index:TrainingJob", "mlops-job-tune")
    registration = run.one(VERTEX_JOB, "mlops-job-tune")
    assert registration.parent == job_component.urn
    props = registration.plain_inputs()
    assert props["project"] == PROJECT
    assert props["region"] == REGION
    body = props["job"]
    assert body["displayName"].startswith("tune-")
    version = body["displayName"].removeprefix("tune-")
    assert len(version) == 16
    spec = body["jobSpec"]
    pools = spec["workerPoolSpecs"]
    assert [p["replicaCount"] for p in pools] == [1, 1]
    assert pools[0]["machineSpec"] == {
        "machineType": "a2-ultragpu-8g",
        "acceleratorType": "NVIDIA_A100_80GB",
        "acceleratorCount": 8,
    }
    assert spec["scheduling"] == {"timeout": "7200s", "strategy": "SPOT"}
    assert spec["serviceAccount"].startswith(
        run.inputs(ACCOUNT, "mlops-job-tune-runner-sa")["accountId"]
    )
    assert spec["network"].startswith(f"projects/{NUMBER}/global/networks/")
    assert spec["baseOutputDirectory"]["outputUriPrefix"] == (
        f"gs://mlops-store-a1b2c3d/jobs/tune/{version}/output"
    )
    env = _env(pools[0]["containerSpec"])
    assert env["LOG_LEVEL"] == "info"
    assert env["MLOPS_EXECUTION_ID"] == version
    # The job's own MLflow user, not the deployer's admin (issue 14.9).
    assert env["MLFLOW_TRACKING_USERNAME"] == "wl-job-tune"
    assert env["MLOPS_CLOUD_RUN_AUTH"] == "1"
    assert env["MLOPS_TRACKING_PASSWORD_SECRET"].endswith("/versions/1")
    assert "MLFLOW_TRACKING_PASSWORD" not in env
    import json

    step = json.loads(env["MLOPS_STEP"])
    assert step["component"] == "diagnosis.train"
    assert step["model_name"] == "tuned"
    assert step["params"] == {"c": 2}
    assert step["code_dir"] == f"/gcs/mlops-store-a1b2c3d/jobs/tune/{version}/code"
    assert step["gpus"] == 16
    assert step["final"] is True
    assert step["tags"]["mlops.pipeline_version"] == version


def test_job_code_is_uploaded_once_per_version_and_kept(run: ProgramRun) -> None:
    version = _job(run)["displayName"].removeprefix("tune-")
    objects = [
        o for o in run.of_type(OBJECT)
        if o.name.startswith("mlops-job-tune-") and o.plain_inputs()["name"].startswith("jobs/")
    ]  # fmt: skip
    assert {o.plain_inputs()["name"] for o in objects} >= {
        f"jobs/tune/{version}/code/diagnosis/train.py",
        f"jobs/tune/{version}/manifest.json",
    }
    assert all(o.retain_on_delete for o in objects)
    job = run.one(VERTEX_JOB, "mlops-job-tune")
    assert {o.urn for o in objects} <= set(job.depends_on)


def test_job_identity_is_scoped_to_its_bucket_secret_and_tracking_service(run: ProgramRun) -> None:
    account = run.inputs(ACCOUNT, "mlops-job-tune-runner-sa")["accountId"]
    member = f"serviceAccount:{account}@{PROJECT}.iam.gserviceaccount.com"
    bucket = run.inputs(BUCKET_IAM, "mlops-job-tune-runner-artifacts")
    assert (bucket["role"], bucket["member"]) == ("roles/storage.objectUser", member)
    secret = run.inputs(SECRET_IAM, "mlops-job-tune-tracking-password-reader-runner")
    assert secret["member"] == member
    invoker = run.inputs(SERVICE_IAM, "mlops-job-tune-runner-tracking")
    tracking = run.inputs("gcp:cloudrunv2/service:Service", "mlops-tracking-service")
    assert invoker == {
        "name": tracking["name"],
        "location": REGION,
        "role": "roles/run.invoker",
        "member": member,
    }
    # Project-wide: only the image builders' log writing (Cloud Logging has no finer scope).
    assert sorted(
        r.name for r in run.of_type("gcp:projects/iAMMember:IAMMember") if "job" in r.name
    ) == ["mlops-job-quick-builder-logs", "mlops-job-tune-builder-logs"]


def test_cloud_run_job_runs_once_per_version_with_an_l4(run: ProgramRun) -> None:
    job = run.one(CLOUD_RUN_JOB, "mlops-job-quick")
    props = job.plain_inputs()
    manifest = next(
        o.plain_inputs()["name"]
        for o in run.of_type(OBJECT)
        if o.name == "mlops-job-quick-manifest"
    )
    version = manifest.split("/")[2]
    assert props["runExecutionToken"] == version
    assert props["deletionProtection"] is False
    template = props["template"]["template"]
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    container = template["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert container["commands"] == ["python", "-m", "mlops_infra.backends.gcp.container_entry"]
    env = {e["name"]: e for e in container["envs"]}
    assert "valueSource" in env["MLFLOW_TRACKING_PASSWORD"]
    assert "MLOPS_TRACKING_PASSWORD_SECRET" not in env
    assert template["vpcAccess"]["egress"] == "ALL_TRAFFIC"
    assert template["volumes"] == [
        {"name": "artifacts", "gcs": {"bucket": "mlops-store-a1b2c3d", "readOnly": False}}
    ]
    assert container["volumeMounts"] == [
        {"name": "artifacts", "mountPath": "/gcs/mlops-store-a1b2c3d"}
    ]


def test_cloud_run_job_refuses_gpus_it_cannot_attach() -> None:
    spec = base_spec(
        "dev",
        clusters=[{"name": "gpu", "gpu": "a100-80gb", "gpu_count": 8}],
        jobs=[
            {"name": "big", "flavor": "cloud-run", "component": "diagnosis.train", "cluster": "gpu"}
        ],
    )
    with pytest.raises(BackendError, match="one l4 GPU"):
        synth(spec)


def test_tracking_invoker_can_be_turned_off_for_servers_elsewhere() -> None:
    spec = base_spec(
        "dev",
        tracking={"existing": {"url": "https://mlflow.internal.example.com", "username": "ci"}},
        jobs=[
            {
                "name": "tune",
                "component": "diagnosis.train",
                "options": {"tracking_invoker": False},
            }
        ],
    )
    run = synth(spec)
    assert run.names(SERVICE_IAM) == []
    env = _env(
        run.inputs(VERTEX_JOB, "mlops-job-tune")["job"]["jobSpec"]["workerPoolSpecs"][0][
            "containerSpec"
        ]
    )
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.internal.example.com"
    assert "MLOPS_CLOUD_RUN_AUTH" not in env
    spec["jobs"][0]["options"] = {}
    with pytest.raises(BackendError, match="tracking_invoker: false"):
        synth(spec)


def test_jobs_run_on_the_runtime_image_the_stack_builds(run: ProgramRun) -> None:
    manifest = job_manifest(TrainingJobSpec.model_validate(JOBS[0]), REPO)
    tag = runtime_source(
        component_requirements(manifest.code, REPO / "components"), RUNTIME_REQUIREMENTS
    ).tag
    repository = run.inputs("gcp:artifactregistry/repository:Repository", "mlops-registry")
    image = f"{REGION}-docker.pkg.dev/{PROJECT}/{repository['repositoryId']}/runtime:{tag}"
    pools = _job(run)["jobSpec"]["workerPoolSpecs"]
    assert {pool["containerSpec"]["imageUri"] for pool in pools} == {image}
    build = run.one(DYNAMIC + "CloudBuildImage", "mlops-job-tune-runtime-image")
    assert build.urn in run.one(VERTEX_JOB, "mlops-job-tune").depends_on
    props = build.plain_inputs()
    assert (props["image_name"], props["tag"]) == ("runtime", tag)
    assert props["context_object"] == f"images/{tag}/context.tar.gz"
    builder = run.inputs(ACCOUNT, "mlops-job-tune-builder-sa")["accountId"]
    push = run.inputs(
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "mlops-job-tune-builder-push",
    )
    assert push == {
        "location": REGION,
        "repository": repository["repositoryId"],
        "role": "roles/artifactregistry.writer",
        "member": f"serviceAccount:{builder}@{PROJECT}.iam.gserviceaccount.com",
    }


def test_job_reads_its_own_users_password_not_the_admin_one(run: ProgramRun) -> None:
    from mlops_infra.offline import unwrap_secrets

    def value(name: str) -> Any:
        return unwrap_secrets(run.inputs(SECRET_VERSION, name)["secretData"])

    stored = value("mlops-job-tune-tracking-password-value")
    assert stored == "generated-mlops-job-tune-mlflow-password"
    assert stored != value("mlops-job-quick-tracking-password-value")
    assert stored != value("mlops-tracking-admin-password-value")
