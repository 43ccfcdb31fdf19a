"""The workflows pipeline under mocks: package, compiled DAG, identities, schedule, runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gcp_mocks import (
    ACCOUNT,
    CUSTOM_ROLE,
    DYNAMIC,
    OBJECT,
    PROJECT,
    PROJECT_IAM,
    REGION,
    ROLE_SUFFIX,
    RUN_MODEL_VERSION,
    SCHEDULER,
    WORKFLOW,
    base_spec,
    synth,
)

from mlops_infra.offline import ProgramRun, unwrap_secrets

EXECUTION = DYNAMIC + "GcpWorkflowExecution"

PIPELINE: dict[str, Any] = {
    "name": "diagnosis",
    "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
    "parameters": {"seed": 7},
    "schedule": {"cron": "0 3 * * 1", "timezone": "Europe/Paris", "enabled": False},
    "steps": [
        {"name": "register", "component": "diagnosis.register", "depends_on": ["evaluate"]},
        {"name": "featurize", "component": "diagnosis.featurize"},
        {"name": "evaluate", "component": "diagnosis.evaluate", "depends_on": ["train"]},
        {
            "name": "train",
            "component": "diagnosis.train",
            "depends_on": ["featurize"],
            "cluster": "gpu",
            "retries": 2,
            "parameters": {"c": 1},
        },
    ],
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    spec = base_spec(
        "dev", clusters=[{"name": "gpu", "gpu": "l4", "spot": True}], pipelines=[PIPELINE]
    )
    return synth(spec)


def _version(run: ProgramRun) -> str:
    return unwrap_secrets(run.outputs)["pipelines"]["diagnosis"]["version"]


def _definition(run: ProgramRun) -> dict[str, Any]:
    return json.loads(run.inputs(WORKFLOW, "mlops-pipeline-diagnosis")["sourceContents"])


def _bodies(run: ProgramRun) -> dict[str, dict[str, Any]]:
    steps = _definition(run)["main"]["steps"]
    return {
        name.removeprefix("step_"): step[name]["args"]["body"]
        for step in steps
        for name in step
        if name.startswith("step_")
    }


def test_workflow_runs_the_steps_in_dependency_order(run: ProgramRun) -> None:
    steps = _definition(run)["main"]["steps"]
    assert [next(iter(s)) for s in steps] == [
        "init",
        "step_featurize",
        "step_train",
        "step_evaluate",
        "step_register",
        "done",
    ]
    train = steps[2]["step_train"]["args"]
    assert train["max_attempts"] == 3
    assert train["region"] == REGION


def test_each_step_is_a_vertex_job_on_its_cluster(run: ProgramRun) -> None:
    version = _version(run)
    bodies = _bodies(run)
    train = bodies["train"]
    assert train["displayName"] == f"diagnosis-train-{version}"
    pool = train["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"] == {
        "machineType": "g2-standard-8",
        "acceleratorType": "NVIDIA_L4",
        "acceleratorCount": 1,
    }
    assert train["jobSpec"]["scheduling"]["strategy"] == "SPOT"
    assert bodies["featurize"]["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] == {
        "machineType": "n1-standard-8"
    }
    env = {e["name"]: e["value"] for e in pool["containerSpec"]["env"]}
    assert env["MLOPS_EXECUTION_ID"] == "${execution}"
    step = json.loads(env["MLOPS_STEP"])
    assert step["inputs_from"] == ["featurize"]
    assert step["params"] == {"seed": 7, "c": 1}
    assert step["final"] is False
    assert step["data"]["breast_cancer"] == (
        f"/gcs/mlops-store-a1b2c3d/pipelines/diagnosis/{version}/data/breast_cancer/breast_cancer.csv"
    )
    assert step["runs_dir"] == "/gcs/mlops-store-a1b2c3d/runs/pipeline/diagnosis"
    last = json.loads(
        {
            e["name"]: e["value"]
            for e in bodies["register"]["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["env"]
        }["MLOPS_STEP"]
    )
    assert last["final"] is True
    # Every upstream step's outputs, direct or not (evaluate reads featurize's test set).
    assert last["inputs_from"] == ["featurize", "evaluate", "train"]
    runner = run.inputs(ACCOUNT, "mlops-pipeline-diagnosis-runner-sa")["accountId"]
    assert all(b["jobSpec"]["serviceAccount"].startswith(runner) for b in bodies.values())


def test_package_holds_code_manifest_and_data_under_the_version(run: ProgramRun) -> None:
    version = _version(run)
    objects = {
        o.plain_inputs()["name"]: o
        for o in run.of_type(OBJECT)
        if o.name.startswith("mlops-pipeline-")
    }
    prefix = f"pipelines/diagnosis/{version}"
    assert f"{prefix}/manifest.json" in objects
    assert f"{prefix}/code/diagnosis/train.py" in objects
    assert f"{prefix}/data/breast_cancer/breast_cancer.csv" in objects
    assert all(o.retain_on_delete for o in objects.values())
    manifest = json.loads(objects[f"{prefix}/manifest.json"].plain_inputs()["content"])
    assert manifest["version"] == version
    assert unwrap_secrets(run.outputs)["pipelines"]["diagnosis"]["deployed_version"] == version


def test_workflow_identity_may_submit_jobs_and_act_as_the_runner_only(run: ProgramRun) -> None:
    workflow = run.inputs(WORKFLOW, "mlops-pipeline-diagnosis")
    orchestrator = run.inputs(ACCOUNT, "mlops-pipeline-diagnosis-workflow-sa")["accountId"]
    assert workflow["serviceAccount"] == f"{orchestrator}@{PROJECT}.iam.gserviceaccount.com"
    assert workflow["deletionProtection"] is False
    assert workflow["region"] == REGION
    roles = {
        run.inputs(PROJECT_IAM, name)["role"]
        for name in run.names(PROJECT_IAM)
        if name.startswith("mlops-pipeline-diagnosis-workflow")
    }
    role_name = f"projects/{PROJECT}/roles/mlops_pipeline_diagnosis_workflow_jobs_{ROLE_SUFFIX}"
    assert roles == {role_name, "roles/logging.logWriter"}
    jobs = run.inputs(CUSTOM_ROLE, "mlops-pipeline-diagnosis-workflow-jobs")
    assert jobs["permissions"] == ["aiplatform.customJobs.create", "aiplatform.customJobs.get"]
    assert jobs["roleId"] == f"mlops_pipeline_diagnosis_workflow_jobs_{ROLE_SUFFIX}"
    assert jobs["project"] == PROJECT
    assert jobs["title"] == "mlops-pipeline-diagnosis-workflow-jobs (stack dev)"
    assert jobs["stage"] == "GA"
    acts_as = run.inputs(
        "gcp:serviceaccount/iAMMember:IAMMember", "mlops-pipeline-diagnosis-workflow-acts-as-runner"
    )
    runner = run.inputs(ACCOUNT, "mlops-pipeline-diagnosis-runner-sa")["accountId"]
    assert acts_as["role"] == "roles/iam.serviceAccountUser"
    assert acts_as["serviceAccountId"].endswith(f"/{runner}@{PROJECT}.iam.gserviceaccount.com")


def test_schedule_starts_the_workflow_with_its_own_identity(run: ProgramRun) -> None:
    job = run.inputs(SCHEDULER, "mlops-pipeline-diagnosis-schedule")
    assert job["schedule"] == "0 3 * * 1"
    assert job["timeZone"] == "Europe/Paris"
    assert job["paused"] is True
    workflow = run.inputs(WORKFLOW, "mlops-pipeline-diagnosis")
    target = job["httpTarget"]
    assert target["uri"] == (
        "https://workflowexecutions.googleapis.com/v1/"
        f"projects/{PROJECT}/locations/{REGION}/workflows/{workflow['name']}/executions"
    )
    scheduler = run.inputs(ACCOUNT, "mlops-pipeline-diagnosis-scheduler-sa")["accountId"]
    assert target["oauthToken"]["serviceAccountEmail"].startswith(scheduler)
    invoker = run.inputs(PROJECT_IAM, "mlops-pipeline-diagnosis-scheduler-invoker")
    starts = run.inputs(CUSTOM_ROLE, "mlops-pipeline-diagnosis-scheduler-starts")
    assert starts["permissions"] == ["workflows.executions.create"]
    assert starts["title"] == "mlops-pipeline-diagnosis-scheduler-starts (stack dev)"
    assert invoker["role"] == f"projects/{PROJECT}/roles/{starts['roleId']}"
    assert invoker["member"] == f"serviceAccount:{scheduler}@{PROJECT}.iam.gserviceaccount.com"


def test_a_new_version_is_run_once(run: ProgramRun) -> None:
    execution = run.one(EXECUTION, "mlops-pipeline-diagnosis-run")
    props = execution.plain_inputs()
    assert props["version"] == _version(run)
    assert props["workflow"] == (
        f"projects/{PROJECT}/locations/{REGION}/workflows/"
        f"{run.inputs(WORKFLOW, 'mlops-pipeline-diagnosis')['name']}"
    )


@pytest.mark.parametrize(
    ("environment", "wait", "candidate"),
    [("dev", True, RUN_MODEL_VERSION), ("prod", False, None)],
)
def test_development_waits_for_the_run_and_its_model_reaches_the_gate(
    environment: str, wait: bool, candidate: str | None
) -> None:
    endpoint = {"name": "diagnosis", "model": "diagnosis"}
    spec = base_spec(
        environment,
        clusters=[{"name": "gpu", "gpu": "l4"}],
        pipelines=[{**PIPELINE, "schedule": None}],
        endpoints=[endpoint],
    )
    run = synth(spec, stack=environment)
    props = run.inputs(EXECUTION, "mlops-pipeline-diagnosis-run")
    assert (props["wait"], props["timeout_s"], props["model"]) == (wait, 7200, "diagnosis")
    assert props["tracking_url"].endswith(".run.app")
    gate = run.inputs(DYNAMIC + "PromotionDecision", "mlops-endpoint-diagnosis-gate")
    assert gate.get("candidate_version") == candidate


def test_a_pinned_version_is_neither_uploaded_nor_rerun() -> None:
    pinned = {**PIPELINE, "version": "00112233445566aa", "schedule": None}
    spec = base_spec("dev", clusters=[{"name": "gpu", "gpu": "l4"}], pipelines=[pinned])
    run = synth(spec)
    assert run.names(EXECUTION) == []
    uploads = [o.name for o in run.of_type(OBJECT) if o.name.startswith("mlops-pipeline-")]
    assert uploads == ["mlops-pipeline-diagnosis-runtime-context"]  # no package file
    assert run.names(SCHEDULER) == []
    bodies = _bodies(run)
    assert bodies["train"]["displayName"] == "diagnosis-train-00112233445566aa"
    outputs = unwrap_secrets(run.outputs)["pipelines"]["diagnosis"]
    assert outputs["deployed_version"] == "00112233445566aa"


def test_ancestors_are_transitive_in_declaration_order() -> None:
    from mlops_infra.backends.gcp.pipeline import ancestors
    from mlops_infra.specs import PipelineSpec

    spec = PipelineSpec.model_validate(PIPELINE)
    assert ancestors(spec, "featurize") == []
    assert ancestors(spec, "train") == ["featurize"]
    assert ancestors(spec, "register") == ["featurize", "evaluate", "train"]
