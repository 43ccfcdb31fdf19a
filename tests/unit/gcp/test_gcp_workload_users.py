"""Issue 14.9: each training job and pipeline gets its own MLflow user, under mocks.

Before, every workload of a stack read one shared ``runner`` password (with ``EDIT`` on
every experiment and model). Now each declares ``<name>-mlflow-user`` (written by ``pulumi
up`` as the admin, see ``test_gcp_mlflow_users.py`` for what it does on a real server) with
its own generated password in its own secret, readable by its own identity only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from gcp_mocks import (
    ACCOUNT,
    DYNAMIC,
    PROJECT,
    SECRET,
    SECRET_IAM,
    SECRET_VERSION,
    SERVICE,
    WORKFLOW,
    base_spec,
    synth,
)

from mlops_infra.backends.gcp.tracking_server import ADMIN_USER, CLIENT_AUTH
from mlops_infra.offline import ProgramRun, unwrap_secrets

USER = DYNAMIC + "GcpMlflowWorkloadUser"
VERTEX_JOB = DYNAMIC + "GcpVertexCustomJob"
CLOUD_RUN_JOB = "gcp:cloudrunv2/job:Job"

STEPS = [
    {"name": "featurize", "component": "diagnosis.featurize"},
    {"name": "train", "component": "diagnosis.train", "depends_on": ["featurize"]},
]
# A job and a pipeline share the name "churn": their users must still differ.
WORKLOADS = {
    "job-tune": ("wl-job-tune", "tune", "tuned"),
    "job-churn": ("wl-job-churn", "churn", "churn"),
    "pipeline-churn": ("wl-pipeline-churn", "churn", "churn-model"),
    "pipeline-fraud": ("wl-pipeline-fraud", "fraud", "fraud"),
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    spec = base_spec(
        "dev",
        jobs=[
            {"name": "tune", "component": "diagnosis.train", "output_model": "tuned"},
            {"name": "churn", "flavor": "cloud-run", "component": "diagnosis.train"},
        ],
        pipelines=[
            {"name": "churn", "model_name": "churn-model", "steps": STEPS},
            {"name": "fraud", "steps": STEPS},
        ],
    )
    return synth(spec)


def _secret_value(run: ProgramRun, name: str) -> Any:
    return unwrap_secrets(run.inputs(SECRET_VERSION, name)["secretData"])


def _email(run: ProgramRun, workload: str) -> str:
    account = run.inputs(ACCOUNT, f"mlops-{workload}-runner-sa")["accountId"]
    return f"{account}@{PROJECT}.iam.gserviceaccount.com"


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_each_workload_declares_its_own_user_on_its_own_experiment_and_model(
    run: ProgramRun, workload: str
) -> None:
    username, experiment, model = WORKLOADS[workload]
    user = run.inputs(USER, f"mlops-{workload}-mlflow-user")
    assert (user["username"], user["experiment"], user["model"]) == (username, experiment, model)
    # Written by the deployer's `up` as the admin, through the Cloud Run ID-token hook.
    assert user["admin_username"] == ADMIN_USER
    assert user["admin_password"] == _secret_value(run, "mlops-tracking-admin-password-value")
    assert user["client_auth"] == CLIENT_AUTH
    service = run.inputs(SERVICE, "mlops-tracking-service")
    assert user["tracking_url"].startswith(f"https://{service['name']}-")
    # Its password is its own, generated for it, and is what its secret holds.
    password = f"generated-mlops-{workload}-mlflow-password"
    assert user["password"] == password
    assert _secret_value(run, f"mlops-{workload}-tracking-password-value") == password
    secret = run.one(USER, f"mlops-{workload}-mlflow-user")
    assert {"password", "admin_password"} <= set(secret.additional_secret_outputs)


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_each_user_secret_is_readable_by_its_workload_identity_only(
    run: ProgramRun, workload: str
) -> None:
    prefix = f"mlops-{workload}-tracking-password-reader-"
    readers = [r.plain_inputs() for r in run.of_type(SECRET_IAM) if r.name.startswith(prefix)]
    assert [(r["role"], r["member"]) for r in readers] == [
        ("roles/secretmanager.secretAccessor", f"serviceAccount:{_email(run, workload)}")
    ]


def test_no_workload_gets_the_admin_or_a_shared_user_or_password(run: ProgramRun) -> None:
    users = [r.plain_inputs() for r in run.of_type(USER)]
    assert sorted(u["username"] for u in users) == sorted(u for u, _, _ in WORKLOADS.values())
    passwords = [
        _secret_value(run, f"mlops-{workload}-tracking-password-value") for workload in WORKLOADS
    ]
    assert len(set(passwords)) == len(WORKLOADS)
    assert _secret_value(run, "mlops-tracking-admin-password-value") not in passwords
    # The shared runner and its password are gone from the stack.
    assert not [r.name for r in run.of_type(SECRET) if "runner-password" in r.name]


def _env(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueSource")) for e in entries}


def test_vertex_job_logs_in_as_its_user_once_it_exists(run: ProgramRun) -> None:
    job = run.one(VERTEX_JOB, "mlops-job-tune")
    pool = job.plain_inputs()["job"]["jobSpec"]["workerPoolSpecs"][0]
    env = _env(pool["containerSpec"]["env"])
    assert env["MLFLOW_TRACKING_USERNAME"] == "wl-job-tune"
    version = run.inputs(SECRET_VERSION, "mlops-job-tune-tracking-password-value")
    assert env["MLOPS_TRACKING_PASSWORD_SECRET"] == f"{version['secret']}/versions/1"
    assert "MLFLOW_TRACKING_PASSWORD" not in env
    assert run.one(USER, "mlops-job-tune-mlflow-user").urn in job.depends_on


def test_cloud_run_job_gets_its_user_and_its_own_secret(run: ProgramRun) -> None:
    job = run.one(CLOUD_RUN_JOB, "mlops-job-churn")
    container = job.plain_inputs()["template"]["template"]["containers"][0]
    env = _env(container["envs"])
    assert env["MLFLOW_TRACKING_USERNAME"] == "wl-job-churn"
    secret = run.inputs(SECRET, "mlops-job-churn-tracking-password")
    assert env["MLFLOW_TRACKING_PASSWORD"]["secretKeyRef"]["secret"] == secret["secretId"]
    assert run.one(USER, "mlops-job-churn-mlflow-user").urn in job.depends_on


@pytest.mark.parametrize("pipeline", ["churn", "fraud"])
def test_pipeline_steps_log_in_as_the_pipelines_user(run: ProgramRun, pipeline: str) -> None:
    workflow = run.one(WORKFLOW, f"mlops-pipeline-{pipeline}")
    steps = json.loads(workflow.plain_inputs()["sourceContents"])["main"]["steps"]
    bodies = [s[n]["args"]["body"] for s in steps for n in s if n.startswith("step_")]
    assert len(bodies) == len(STEPS)
    version = run.inputs(SECRET_VERSION, f"mlops-pipeline-{pipeline}-tracking-password-value")
    for body in bodies:
        env = _env(body["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["env"])
        assert env["MLFLOW_TRACKING_USERNAME"] == f"wl-pipeline-{pipeline}"
        assert env["MLOPS_TRACKING_PASSWORD_SECRET"] == f"{version['secret']}/versions/1"
    user = run.one(USER, f"mlops-pipeline-{pipeline}-mlflow-user")
    assert user.urn in workflow.depends_on


def test_an_adopted_server_declares_no_users() -> None:
    spec = base_spec(
        "dev",
        tracking={"existing": {"url": "https://mlflow.example.com", "username": "ops"}},
        jobs=[
            {
                "name": "tune",
                "component": "diagnosis.train",
                "options": {"tracking_invoker": False},
            }
        ],
    )
    run = synth(spec)
    assert run.of_type(USER) == []
