"""Tracking server, clusters, jobs, pipelines and endpoints on Azure ML, under mocks."""

from __future__ import annotations

from typing import Any

import pytest
from azure_mocks import (
    CLIENT_CONFIG,
    REPO,
    SUBSCRIPTION,
    WORKSPACE_ID,
    AzureMocks,
    azure_run,
    gate_outputs,
    principal_id,
)

from mlops_infra.backends.azure.mlflow_auth import HOOK
from mlops_infra.errors import BackendError
from mlops_infra.offline import run_offline
from mlops_infra.resources import (
    Foundation,
    FoundationArgs,
    StoreRef,
    Target,
    TrackingRef,
    TrainingCluster,
    TrainingClusterArgs,
)
from mlops_infra.specs import StackSpec, TrainingClusterSpec
from mlops_infra.versioning import job_manifest, pipeline_manifest

ROLE = "/providers/Microsoft.Authorization/roleDefinitions/"
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
GATE = {"conditions": [{"metric": "accuracy", "threshold": 0.9}]}
PIPELINE = {
    "name": "diagnosis",
    "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
    "schedule": {"cron": "0 3 * * 1", "timezone": "Europe/Paris"},
    "steps": [
        {"name": "featurize", "component": "diagnosis.featurize", "cluster": "cpu"},
        {
            "name": "train",
            "component": "diagnosis.train",
            "depends_on": ["featurize"],
            "cluster": "cpu",
        },
        {"name": "evaluate", "component": "diagnosis.evaluate", "depends_on": ["train"]},
        {"name": "register", "component": "diagnosis.register", "depends_on": ["evaluate"]},
    ],
}


def store_account(run_inputs: dict[str, object]) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-test/providers/Microsoft.Storage/"
        f"storageAccounts/{run_inputs['accountName']}"
    )


def test_tracking_server_is_an_azure_ml_workspace() -> None:
    run = azure_run({"environment": "dev"})
    workspace = run.inputs("azure-native:machinelearningservices:Workspace", "mlops-tracking")
    assert workspace["workspaceName"] == "mlops-tracking"
    assert workspace["identity"] == {"type": "SystemAssigned"}
    assert workspace["storageAccount"] == store_account(
        run.inputs("azure-native:storage:StorageAccount", "mlops-store")
    )
    assert workspace["keyVault"] == "mlops-vault-id"
    assert workspace["containerRegistry"] == "mlops-registry-id"
    assert workspace["systemDatastoresAuthMode"] == "Identity"
    assert workspace["publicNetworkAccess"] == "Enabled"
    assert workspace["managedNetwork"]["isolationMode"] == "AllowInternetOutbound"
    assert workspace["hbiWorkspace"] is False
    assert workspace["v1LegacyMode"] is False
    assert run.outputs["tracking_url"].startswith("azureml://westeurope.api.azureml.ms/mlflow/")
    assert run.one(
        "azure-native:machinelearningservices:Workspace", "mlops-tracking"
    ).retain_on_delete
    assert not run.one("azure-native:machinelearningservices:Workspace", "mlops-tracking").protect


def test_tracking_server_prod_with_network() -> None:
    run = azure_run(
        {
            "environment": "prod",
            "network": {"create": True},
            "tracking": {"options": {"image_build_compute": "cpu"}},
        }
    )
    workspace = run.inputs("azure-native:machinelearningservices:Workspace", "mlops-tracking")
    assert workspace["publicNetworkAccess"] == "Disabled"
    assert workspace["allowPublicAccessWhenBehindVnet"] is False
    assert workspace["managedNetwork"]["isolationMode"] == "Disabled"
    assert workspace["hbiWorkspace"] is True
    assert workspace["imageBuildCompute"] == "cpu"
    assert run.one("azure-native:machinelearningservices:Workspace", "mlops-tracking").protect
    connection = run.inputs("azure-native:network:PrivateEndpoint", "mlops-tracking-workspace-pe")[
        "privateLinkServiceConnections"
    ][0]
    assert connection["groupIds"] == ["amlworkspace"]
    zones = {
        run.inputs("azure-native:privatedns:PrivateZone", f"mlops-tracking-workspace-dns-{i}")[
            "privateZoneName"
        ]
        for i in (0, 1)
    }
    assert zones == {"privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"}


def test_gpu_cluster_scales_to_zero_on_low_priority_without_public_ips() -> None:
    run = azure_run(
        {
            "environment": "dev",
            "clusters": [{"name": "gpu", "gpu": "t4", "max_nodes": 3, "spot": True}],
        }
    )
    compute = run.inputs("azure-native:machinelearningservices:Compute", "mlops-cluster-gpu")
    assert compute["workspaceName"] == "mlops-tracking"
    assert compute["computeName"] == "gpu"
    assert compute["identity"] == {"type": "SystemAssigned"}
    aml = compute["properties"]
    assert aml["computeType"] == "AmlCompute"
    assert aml["disableLocalAuth"] is True
    props = aml["properties"]
    assert props["vmSize"] == "Standard_NC4as_T4_v3"
    assert props["vmPriority"] == "LowPriority"
    assert props["scaleSettings"] == {
        "minNodeCount": 0,
        "maxNodeCount": 3,
        "nodeIdleTimeBeforeScaleDown": "PT10M",
    }
    assert props["enableNodePublicIp"] is False
    assert props["remoteLoginPortPublicAccess"] == "Disabled"
    assert "subnet" not in props
    store = run.inputs(
        "azure-native:authorization:RoleAssignment", "mlops-cluster-gpu-store-access"
    )
    assert store["roleDefinitionId"] == f"/subscriptions/{SUBSCRIPTION}{ROLE}{BLOB_CONTRIBUTOR}"
    assert store["scope"] == store_account(
        run.inputs("azure-native:storage:StorageAccount", "mlops-store")
    )
    assert store["principalId"] == principal_id("mlops-cluster-gpu")
    pull = run.inputs(
        "azure-native:authorization:RoleAssignment", "mlops-cluster-gpu-registry-pull"
    )
    assert pull["roleDefinitionId"].endswith(ACR_PULL)
    assert pull["scope"] == "mlops-registry-id"


def test_cpu_cluster_is_dedicated_and_joins_the_private_subnet() -> None:
    run = azure_run(
        {
            "environment": "dev",
            "network": {"create": True},
            "clusters": [
                {
                    "name": "a-long-cluster-name-x",
                    "min_nodes": 1,
                    "max_nodes": 2,
                    "idle_timeout_s": 0,
                }
            ],
        }
    )
    compute = run.inputs(
        "azure-native:machinelearningservices:Compute", "mlops-cluster-a-long-cluster-name-x"
    )
    assert len(compute["computeName"]) <= 16
    props = compute["properties"]["properties"]
    assert props["vmSize"] == "Standard_D4s_v3"
    assert props["vmPriority"] == "Dedicated"
    assert props["scaleSettings"]["minNodeCount"] == 1
    assert props["scaleSettings"]["nodeIdleTimeBeforeScaleDown"] == "PT1M"
    assert props["subnet"] == {"id": "mlops-subnet-workloads-id"}


def test_cluster_needs_the_workspace() -> None:
    def program() -> None:
        target = Target(cloud="azure", environment="dev")
        foundation = Foundation("f", FoundationArgs(target=target))
        TrainingCluster(
            "c",
            TrainingClusterArgs(
                target=target, spec=TrainingClusterSpec(), foundation=foundation.ref
            ),
        )

    with pytest.raises(BackendError, match=r"pass that TrackingServer's \.ref as tracking="):
        run_offline(program)


def test_cluster_is_created_in_the_workspace_its_tracking_reference_names() -> None:
    """Issue 15 item 14: no hidden slot on the foundation; the workspace is passed."""

    def program() -> None:
        target = Target(cloud="azure", environment="dev")
        foundation = Foundation("f", FoundationArgs(target=target))
        workspace_id = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-test/providers/"
            "Microsoft.MachineLearningServices/workspaces/shared-ws"
        )
        TrainingCluster(
            "c",
            TrainingClusterArgs(
                target=target,
                spec=TrainingClusterSpec(),
                foundation=foundation.ref,
                tracking=TrackingRef(url="azureml://x", id=workspace_id),
                store=StoreRef(uri="https://acct.blob.core.windows.net/artifacts"),
            ),
        )

    run = run_offline(program, mocks=AzureMocks(calls=CLIENT_CONFIG))
    assert (
        run.inputs("azure-native:machinelearningservices:Compute", "c")["workspaceName"]
        == "shared-ws"
    )
    assert run.inputs("azure-native:authorization:RoleAssignment", "c-store-access")[
        "scope"
    ].endswith("/storageAccounts/acct")


def test_cluster_without_store_grants_no_store_access() -> None:
    def program() -> None:
        target = Target(cloud="azure", environment="dev")
        foundation = Foundation("f", FoundationArgs(target=target))
        TrainingCluster(
            "c",
            TrainingClusterArgs(
                target=target,
                spec=TrainingClusterSpec(),
                foundation=foundation.ref,
                tracking=TrackingRef(url="azureml://x", id="not-an-arm-id"),
            ),
        )

    with pytest.raises(BackendError, match="must be an Azure ML workspace ARM id"):
        run_offline(program, mocks=AzureMocks(calls=CLIENT_CONFIG))


def test_steps_name_the_cluster_only_once_its_identity_is_granted() -> None:
    """Issue 15 item 12: the first run must not start before the cluster's role grants."""
    run = azure_run({"environment": "dev", "pipelines": [PIPELINE], "clusters": [{"name": "cpu"}]})
    job = run.one("pulumi-python:dynamic/mlops:AzureMlPipelineRun", "mlops-pipeline-diagnosis-run")
    grants = {
        run.one("azure-native:authorization:RoleAssignment", f"mlops-cluster-cpu-{g}").urn
        for g in ("store-access", "registry-pull")
    }
    assert grants <= set(job.depends_on)


def test_training_job_is_named_by_its_content_hash() -> None:
    job_spec = {
        "name": "train",
        "component": "diagnosis.train",
        "cluster": "gpu",
        "nodes": 2,
        "output_model": "diagnosis",
        "timeout_s": 7200,
        "environment_variables": {"LOG_LEVEL": "info"},
        "data": {"bc": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
    }
    run = azure_run(
        {
            "environment": "dev",
            "artifact_store": {"options": {"shared_key_access": True}},
            "clusters": [{"name": "gpu", "gpu": "t4", "gpu_count": 4, "max_nodes": 2}],
            "jobs": [job_spec],
        }
    )
    spec = StackSpec.model_validate(
        {
            "cloud": "azure",
            "clusters": [{"name": "gpu", "gpu": "t4", "gpu_count": 4, "max_nodes": 2}],
            "jobs": [job_spec],
        }
    )
    version = job_manifest(spec.jobs[0], REPO).version
    job = run.one("azure-native:machinelearningservices:Job", "mlops-job-train")
    body = job.plain_inputs()
    assert body["id"] == f"train-{version[:12]}"
    assert job.retain_on_delete
    assert job.ignore_changes == ("properties",)
    props = body["properties"]
    assert props["jobType"] == "Command"
    assert props["computeId"] == "mlops-cluster-gpu-id"
    assert props["identity"] == {"identityType": "Managed"}
    assert props["codeId"] == f"{WORKSPACE_ID}/codes/mlops-job-train/versions/{version}"
    assert props["environmentId"].startswith(f"{WORKSPACE_ID}/environments/mlops-job-train/")
    assert props["limits"] == {"jobLimitsType": "Command", "timeout": "PT2H"}
    assert props["resources"]["instanceCount"] == 2
    assert "instanceType" not in props["resources"]
    assert props["distribution"] == {"distributionType": "PyTorch", "processCountPerInstance": 4}
    assert props["environmentVariables"] == {"LOG_LEVEL": "info"}
    assert props["command"].startswith(
        "python -m mlops_infra.backends.azure.container_entry --component diagnosis.train --context "
    )
    assert "--data bc=${{inputs.data_bc}}" in props["command"]
    assert props["inputs"]["data_bc"]["jobInputType"] == "uri_file"
    assert props["inputs"]["data_bc"]["uri"].endswith(
        f"/artifacts/jobs/train/{version}/data/bc/breast_cancer.csv"
    )
    assert props["tags"]["mlops.pipeline_version"] == version

    code = run.inputs("azure-native:machinelearningservices:CodeVersion", "mlops-job-train-code")
    assert code["version"] == version
    assert code["properties"]["codeUri"].endswith(f"/artifacts/jobs/train/{version}/code")
    blob = run.inputs("azure-native:storage:Blob", "mlops-job-train-package/diagnosis/train.py")
    assert blob["blobName"] == f"jobs/train/{version}/code/diagnosis/train.py"
    assert blob["containerName"] == "artifacts"
    assert run.one(
        "azure-native:storage:Blob", "mlops-job-train-package/diagnosis/train.py"
    ).retain_on_delete
    environment = run.inputs(
        "azure-native:machinelearningservices:EnvironmentVersion", "mlops-job-train-environment"
    )
    conda = environment["properties"]["condaFile"]
    # Issue 11 scope 6: nothing from an index that does not have it; the runtime is shipped.
    assert "mlops-infra" not in conda
    assert '"azureml-mlflow>=1.60"' in conda
    assert '"scikit-learn>=1.5"' in conda  # the component's requirements.txt
    shipped = run.inputs(
        "azure-native:storage:Blob",
        "mlops-job-train-runtime/mlops_infra/backends/azure/container_entry.py",
    )
    assert (
        shipped["blobName"]
        == f"jobs/train/{version}/code/mlops_infra/backends/azure/container_entry.py"
    )
    assert run.outputs["jobs"]["train"]["run_id"] == f"train-{version[:12]}"


def test_training_job_without_cluster_uses_serverless_and_the_image() -> None:
    image = "myregistry.azurecr.io/train@sha256:" + "a" * 64
    run = azure_run(
        {
            "environment": "dev",
            "jobs": [{"name": "train", "component": "diagnosis.train", "image": image}],
        }
    )
    props = run.inputs("azure-native:machinelearningservices:Job", "mlops-job-train")["properties"]
    assert "computeId" not in props
    assert "identity" not in props
    assert props["resources"]["instanceCount"] == 1
    assert props["resources"]["instanceType"] == "Standard_D4s_v3"
    environment = run.inputs(
        "azure-native:machinelearningservices:EnvironmentVersion", "mlops-job-train-environment"
    )["properties"]
    assert environment["image"] == image
    assert "condaFile" not in environment


def test_pipeline_publishes_components_runs_once_and_schedules() -> None:
    run = azure_run(
        {
            "environment": "dev",
            "artifact_store": {"options": {"shared_key_access": True}},
            "clusters": [{"name": "cpu"}],
            "pipelines": [PIPELINE],
            "endpoints": [{"name": "diagnosis", "model": "diagnosis", "gate": GATE}],
        }
    )
    spec = StackSpec.model_validate(
        {"cloud": "azure", "clusters": [{"name": "cpu"}], "pipelines": [PIPELINE]}
    )
    version = pipeline_manifest(spec.pipelines[0], REPO).version
    components = run.names("azure-native:machinelearningservices:ComponentVersion")
    assert components == [
        f"mlops-pipeline-diagnosis-component-{step}"
        for step in ("evaluate", "featurize", "register", "train")
    ]
    train = run.inputs(
        "azure-native:machinelearningservices:ComponentVersion",
        "mlops-pipeline-diagnosis-component-train",
    )
    assert train["name"] == "mlops_pipeline_diagnosis_train"
    assert train["version"] == version
    component = train["properties"]["componentSpec"]
    assert component["type"] == "command"
    # Issue 15 item 3: asset references, as azure-ai-ml writes them.
    assert component["code"] == (
        f"azureml:{WORKSPACE_ID}/codes/mlops-pipeline-diagnosis/versions/{version}"
    )
    assert component["environment"].startswith(
        f"azureml:{WORKSPACE_ID}/environments/mlops-pipeline-diagnosis/versions/"
    )
    assert "--input featurize=${{inputs.featurize}}" in component["command"]
    assert component["inputs"]["featurize"] == {"type": "uri_folder"}
    assert run.one(
        "azure-native:machinelearningservices:ComponentVersion",
        "mlops-pipeline-diagnosis-component-train",
    ).retain_on_delete

    job = run.inputs(
        "pulumi-python:dynamic/mlops:AzureMlPipelineRun", "mlops-pipeline-diagnosis-run"
    )
    assert job["job_name"] == f"diagnosis-{version[:12]}"
    nodes = job["job"]["properties"]["jobs"]
    assert job["job"]["properties"]["jobType"] == "Pipeline"
    assert set(nodes) == {"featurize", "train", "evaluate", "register"}
    assert nodes["train"]["componentId"] == "mlops-pipeline-diagnosis-component-train-id"
    assert nodes["train"]["computeId"] == "mlops-cluster-cpu-id"
    assert nodes["train"]["inputs"]["featurize"] == {
        "job_input_type": "literal",
        "value": "${{parent.jobs.featurize.outputs.output}}",
    }
    assert nodes["evaluate"]["resources"]["instance_type"] == "Standard_D4s_v3"
    # Every ancestor's outputs, like the local runner: evaluate reads featurize's test split
    # though it depends on train only (found by `mlops-infra rehearse --stack azure-dev`).
    assert nodes["evaluate"]["inputs"]["featurize"] == {
        "job_input_type": "literal",
        "value": "${{parent.jobs.featurize.outputs.output}}",
    }
    evaluate = run.inputs(
        "azure-native:machinelearningservices:ComponentVersion",
        "mlops-pipeline-diagnosis-component-evaluate",
    )["properties"]
    assert "--input featurize=${{inputs.featurize}}" in evaluate["componentSpec"]["command"]
    assert evaluate["componentSpec"]["inputs"]["featurize"] == {"type": "uri_folder"}

    schedule = run.inputs(
        "azure-native:machinelearningservices:Schedule", "mlops-pipeline-diagnosis-schedule"
    )
    trigger = schedule["properties"]["trigger"]
    assert trigger == {
        "triggerType": "Cron",
        "expression": "0 3 * * 1",
        "timeZone": "Romance Standard Time",
    }
    assert schedule["properties"]["isEnabled"] is True
    action = schedule["properties"]["action"]
    assert action["actionType"] == "CreateJob"
    assert action["jobDefinition"]["jobs"]["train"]["componentId"] == (
        "mlops-pipeline-diagnosis-component-train-id"
    )
    assert run.inputs(
        "azure-native:storage:Blob", "mlops-pipeline-diagnosis-package/manifest.json"
    )["blobName"] == (f"pipelines/diagnosis/{version}/manifest.json")
    summary = run.outputs["pipelines"]["diagnosis"]
    assert summary["deployed_version"] == version
    assert summary["run_id"] == f"diagnosis-{version[:12]}"


def test_pinned_pipeline_version_reuses_its_components_and_never_retrains() -> None:
    pinned = "0123456789abcdef"
    run = azure_run(
        {
            "environment": "dev",
            "clusters": [{"name": "cpu"}],
            "pipelines": [{**PIPELINE, "version": pinned}],
        }
    )
    assert not run.of_type("azure-native:machinelearningservices:ComponentVersion")
    assert not run.of_type("azure-native:storage:Blob")
    assert not run.of_type("azure-native:machinelearningservices:Job")
    assert not run.of_type("pulumi-python:dynamic/mlops:AzureMlPipelineRun")
    nodes = run.inputs(
        "azure-native:machinelearningservices:Schedule", "mlops-pipeline-diagnosis-schedule"
    )["properties"]["action"]["jobDefinition"]["jobs"]
    assert nodes["train"]["componentId"] == (
        f"{WORKSPACE_ID}/components/mlops_pipeline_diagnosis_train/versions/{pinned}"
    )
    # The pinned version's data, published with it, is mounted again; nothing is uploaded.
    assert nodes["train"]["inputs"]["data_breast_cancer"]["uri"].endswith(
        f"/artifacts/pipelines/diagnosis/{pinned}/data/breast_cancer/breast_cancer.csv"
    )
    assert run.outputs["pipelines"]["diagnosis"]["deployed_version"] == pinned
    assert run.outputs["pipelines"]["diagnosis"]["run_id"] is None


def test_endpoint_serves_the_gated_version_privately() -> None:
    run = azure_run(
        {
            "environment": "dev",
            "pipelines": [PIPELINE],
            "clusters": [{"name": "cpu"}],
            "artifact_store": {"options": {"shared_key_access": True}},
            "endpoints": [{"name": "diagnosis", "model": "diagnosis", "gate": GATE}],
        },
        gate=gate_outputs(served="3", previous="3"),
    )
    endpoint = run.inputs(
        "azure-native:machinelearningservices:OnlineEndpoint", "mlops-endpoint-diagnosis"
    )
    assert endpoint["kind"] == "Managed"
    assert endpoint["workspaceName"] == "mlops-tracking"
    assert endpoint["identity"] == {"type": "SystemAssigned"}
    assert endpoint["properties"]["authMode"] == "AADToken"
    # No private network to reach it through: public, with Entra ID tokens (issue 15 item 10).
    assert endpoint["properties"]["publicNetworkAccess"] == "Enabled"
    assert "traffic" not in endpoint["properties"]
    assert run.one(
        "azure-native:machinelearningservices:OnlineEndpoint", "mlops-endpoint-diagnosis"
    ).ignore_changes == ("properties.traffic",)
    assert endpoint["endpointName"].startswith("diagnosis-")
    assert len(endpoint["endpointName"]) <= 32
    # Issue 15 item 1: Azure ML grants a system-assigned endpoint identity AcrPull and
    # Storage Blob Data Reader itself; a second assignment fails with RoleAssignmentExists.
    assert not [
        r.name
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.name.startswith("mlops-endpoint-")
    ]

    gate = run.one(
        "pulumi-python:dynamic/mlops:PromotionDecision", "mlops-endpoint-diagnosis-gate"
    ).plain_inputs()
    assert gate["model"] == "diagnosis"
    assert gate["gate"]["conditions"][0]["metric"] == "accuracy"
    assert gate["tracking_url"].startswith("azureml://")

    release = run.one(
        "pulumi-python:dynamic/mlops:AzureMlOnlineRelease", "mlops-endpoint-diagnosis-deployment"
    )
    assert any(urn.endswith("::mlops-endpoint-diagnosis") for urn in release.depends_on)
    got = release.plain_inputs()
    assert got["endpoint_path"] == f"{WORKSPACE_ID}/onlineEndpoints/{endpoint['endpointName']}"
    assert got["version"] == "3"
    assert got["model_id"] == f"{WORKSPACE_ID}/models/diagnosis/versions/3"
    assert got["deployment"]["sku"] == {"name": "Default", "capacity": 1}
    props = got["deployment"]["properties"]
    assert props["endpointComputeType"] == "Managed"
    assert props["instanceType"] == "Standard_DS3_v2"
    assert props["scaleSettings"] == {"scaleType": "Default"}
    assert props["egressPublicNetworkAccess"] == "Enabled"
    assert props["requestSettings"] == {
        "maxConcurrentRequestsPerInstance": 50,  # a float on the wire: see integral()
        "requestTimeout": "PT5S",
    }
    # Default max_replicas 2 > min 1: autoscale on CPU for the serving deployment.
    assert got["autoscale"]["minimum"] == 1
    assert got["autoscale"]["maximum"] == 2
    assert got.get("canary_percent") is None
    assert not run.of_type("azure-native:machinelearningservices:OnlineDeployment")
    assert not run.of_type("azure-native:resources:Deployment")
    # The alias follows the release and reaches Azure ML's MLflow through the hook.
    alias = run.one("pulumi-python:dynamic/mlops:ModelAlias", "mlops-endpoint-diagnosis-alias")
    assert release.urn in alias.depends_on
    assert alias.plain_inputs()["client_auth"] == HOOK
    assert gate["client_auth"] == HOOK


@pytest.mark.parametrize(
    ("spec", "access"),
    [
        # No private network: nothing could reach a private endpoint (it has no private
        # endpoint of its own), so it is public and requires Entra ID tokens.
        ({"environment": "dev"}, "Enabled"),
        # A private network: reached through the workspace's private endpoint.
        ({"environment": "dev", "network": {"create": True}}, "Disabled"),
        # Forced private without a network (callers bring their own private endpoint).
        (
            {"environment": "dev", "endpoint_options": {"public_network_access": False}},
            "Disabled",
        ),
        # Forced public with a network.
        (
            {
                "environment": "prod",
                "network": {"create": True},
                "endpoint_options": {"public_network_access": True},
            },
            "Enabled",
        ),
    ],
)
def test_endpoint_is_reachable_by_default_and_private_with_a_network(
    spec: dict[str, Any], access: str
) -> None:
    """Issue 15 item 10: a dev endpoint with public access disabled and no private
    endpoint could not be scored by anyone. Managed online endpoints take inbound traffic
    either publicly or through the workspace's private endpoint
    (https://learn.microsoft.com/en-us/azure/machine-learning/concept-secure-online-endpoint)."""
    options = spec.pop("endpoint_options", {})
    run = azure_run(
        {
            **spec,
            "endpoints": [
                {"name": "diag", "model": "diag", "external_model": True, "options": options}
            ],
        },
        gate=gate_outputs(served="3", previous="3"),
    )
    endpoint = run.inputs(
        "azure-native:machinelearningservices:OnlineEndpoint", "mlops-endpoint-diag"
    )["properties"]
    assert endpoint["publicNetworkAccess"] == access
    assert endpoint["authMode"] == "AADToken"


def test_endpoint_canary_autoscale_gpu_and_public() -> None:
    run = azure_run(
        {
            "environment": "prod",
            "endpoints": [
                {
                    "name": "diag",
                    "model": "diag",
                    "external_model": True,
                    "gate": GATE,
                    "gpu": "t4",
                    "max_replicas": 5,
                    "canary_percent": 20,
                    "public": True,
                    "options": {"auth_mode": "Key"},
                }
            ],
        },
        gate=gate_outputs(served="4", previous="3"),
    )
    endpoint = run.inputs(
        "azure-native:machinelearningservices:OnlineEndpoint", "mlops-endpoint-diag"
    )["properties"]
    assert endpoint["publicNetworkAccess"] == "Enabled"
    assert endpoint["authMode"] == "Key"
    got = run.inputs(
        "pulumi-python:dynamic/mlops:AzureMlOnlineRelease", "mlops-endpoint-diag-deployment"
    )
    assert got["version"] == "4"
    assert got["canary_percent"] == 20
    assert got["deployment"]["sku"]["capacity"] == 2  # production default
    assert got["deployment"]["properties"]["instanceType"] == "Standard_NC4as_T4_v3"
    assert got["autoscale"]["minimum"] == 2
    assert got["autoscale"]["maximum"] == 5
    assert got["autoscale"]["cpu_percent"] == 70


def test_endpoint_min_replicas_zero_runs_one_instance() -> None:
    run = azure_run(
        {
            "environment": "dev",
            "endpoints": [
                {
                    "name": "e",
                    "model": "m",
                    "external_model": True,
                    "min_replicas": 0,
                    "max_replicas": 1,
                }
            ],
        }
    )
    got = run.inputs(
        "pulumi-python:dynamic/mlops:AzureMlOnlineRelease", "mlops-endpoint-e-deployment"
    )
    assert got["deployment"]["sku"]["capacity"] == 1
    assert got.get("autoscale") is None


def test_fresh_stack_with_nothing_through_the_gate_is_pending() -> None:
    """Issue 11 acceptance 1: an empty registry is a state, not an error, in up mode."""
    run = azure_run(
        {
            "environment": "dev",
            "pipelines": [PIPELINE],
            "clusters": [{"name": "cpu"}],
            "artifact_store": {"options": {"shared_key_access": True}},
            "endpoints": [{"name": "diagnosis", "model": "diagnosis", "gate": GATE}],
        },
        gate={
            "served_version": None,
            "decision": {"outcome": "undeployed", "reason": "no version of diagnosis yet"},
        },
    )
    # Every non-serving resource is registered; the endpoint shell exists, no deployment.
    for type_token, name in (
        ("azure-native:machinelearningservices:Workspace", "mlops-tracking"),
        ("azure-native:machinelearningservices:Compute", "mlops-cluster-cpu"),
        ("pulumi-python:dynamic/mlops:AzureMlPipelineRun", "mlops-pipeline-diagnosis-run"),
        (
            "azure-native:machinelearningservices:ComponentVersion",
            "mlops-pipeline-diagnosis-component-train",
        ),
        ("azure-native:machinelearningservices:OnlineEndpoint", "mlops-endpoint-diagnosis"),
    ):
        run.one(type_token, name)
    release = run.inputs(
        "pulumi-python:dynamic/mlops:AzureMlOnlineRelease", "mlops-endpoint-diagnosis-deployment"
    )
    assert release.get("version") is None
    assert release.get("model_id") is None
    summary = run.outputs["endpoints"]["diagnosis"]
    assert summary["url"] is None
    assert summary["model_version"] is None
    assert summary["decision"]["reason"] == "no version of diagnosis yet"


def test_example_stack_loads_and_synthesizes() -> None:
    from azure_mocks import CLIENT_CONFIG, AzureMocks
    from azure_mocks import GATE as GATE_TYPE

    from mlops_infra import load_stack_file
    from mlops_infra.testing import EchoMocks, run_stack

    spec = load_stack_file(REPO / "stacks" / "Pulumi.azure-dev.yaml")
    assert spec.cloud == "azure"
    assert spec.environment == "dev"
    mocks = AzureMocks(outputs={GATE_TYPE: gate_outputs()}, calls=CLIENT_CONFIG)
    run = run_stack(spec, project_dir=REPO, mocks=mocks, stack="azure-dev")
    assert len(run.of_type("azure-native:machinelearningservices:ComponentVersion")) == 4
    assert len(run.of_type("azure-native:machinelearningservices:Compute")) == 2
    assert len(run.of_type("pulumi-python:dynamic/mlops:AzureMlOnlineRelease")) == 1
    assert (
        run.one("azure-native:storage:StorageAccount", "mlops-store").plain_inputs()[
            "allowBlobPublicAccess"
        ]
        is False
    )
    # The generic mocks (what `mlops-infra plan` uses) synthesize it too.
    generic = run_stack(spec, project_dir=REPO, mocks=EchoMocks(), stack="azure-dev")
    assert generic.of_type("azure-native:machinelearningservices:Schedule")


def test_example_stack_with_an_empty_registry_raises_nothing_in_up_mode() -> None:
    """Issue 11 acceptance 1 for azure-dev: the gate has never passed."""
    from azure_mocks import CLIENT_CONFIG, AzureMocks
    from azure_mocks import GATE as GATE_TYPE

    from mlops_infra import load_stack_file
    from mlops_infra.testing import run_stack

    spec = load_stack_file(REPO / "stacks" / "Pulumi.azure-dev.yaml")
    never = {
        "served_version": None,
        "served_source": None,
        "decision": {"outcome": "undeployed", "reason": "no registered version"},
    }
    mocks = AzureMocks(outputs={GATE_TYPE: never}, calls=CLIENT_CONFIG)
    run = run_stack(spec, project_dir=REPO, mocks=mocks, stack="azure-dev")
    for name, endpoint in run.outputs["endpoints"].items():
        assert endpoint["url"] is None, name
        assert endpoint["model_version"] is None, name
        assert endpoint["decision"]["reason"] == "no registered version"
    assert run.of_type("pulumi-python:dynamic/mlops:AzureMlPipelineRun")
    assert run.of_type("azure-native:machinelearningservices:OnlineEndpoint")
