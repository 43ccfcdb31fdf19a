"""The cloud-run serving endpoint under mocks: gate, ingress, identity, GPU, scaling, canary.

The deployment itself (Cloud Run Admin API calls) is tested against a contract fake in
``test_gcp_deployment.py``.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from gcp_mocks import (
    ACCOUNT,
    BUCKET_IAM,
    DYNAMIC,
    NUMBER,
    PROJECT,
    REGION,
    SERVED_SOURCE,
    SERVICE,
    SERVICE_IAM,
    GcpMocks,
    base_spec,
    synth,
)

from mlops_infra.backends.gcp.serving_image import serving_tag
from mlops_infra.errors import BackendError
from mlops_infra.offline import ProgramRun, unwrap_secrets

GATE = DYNAMIC + "PromotionDecision"
DEPLOYMENT = DYNAMIC + "GcpCloudRunDeployment"
PIPELINE = {
    "name": "diagnosis",
    "steps": [{"name": "train", "component": "diagnosis.train"}],
}
ENDPOINT: dict[str, Any] = {
    "name": "diagnosis",
    "model": "diagnosis",
    "gpu": "l4",
    "min_replicas": 0,
    "max_replicas": 4,
    "target_concurrency": 8,
    "canary_percent": 10,
    "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]},
}


def _spec(environment: str = "prod", **endpoint: Any) -> dict[str, Any]:
    return base_spec(environment, pipelines=[PIPELINE], endpoints=[{**ENDPOINT, **endpoint}])


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return synth(_spec(), stack="prod", mocks=GcpMocks(stable_revision=None))


def _deployment(run: ProgramRun) -> dict[str, Any]:
    return run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis")


def _service(run: ProgramRun) -> dict[str, Any]:
    body: dict[str, Any] = _deployment(run)["template"]
    return body


def _env(run: ProgramRun) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in _service(run)["template"]["containers"][0]["env"]}


def test_gate_decides_with_the_tracking_server_and_the_pipeline_candidate(run: ProgramRun) -> None:
    gate = run.one(GATE, "mlops-endpoint-diagnosis-gate")
    props = gate.plain_inputs()
    assert props["model"] == "diagnosis"
    assert props["alias"] == "champion"
    assert props["environment"] == "prod"
    assert props["gate"]["conditions"][0]["metric"] == "accuracy"
    assert props["tracking_url"].endswith(f"-{NUMBER}.{REGION}.run.app")
    assert props["username"] == "admin"
    assert gate.parent == run.one("mlops:index:ServingEndpoint", "mlops-endpoint-diagnosis").urn


def test_service_serves_the_version_the_gate_allows(run: ProgramRun) -> None:
    env = _env(run)
    # The stack-built image carries the served version's model (built from its source).
    assert env["MLFLOW_MODEL_URI"] == "/opt/ml/model"
    build = run.inputs(DYNAMIC + "CloudBuildImage", "mlops-endpoint-diagnosis-image")
    assert build["tag"] == serving_tag(SERVED_SOURCE, importlib.metadata.version("mlflow"))
    assert SERVED_SOURCE in build["steps"][0]["args"][1]
    assert _service(run)["template"]["containers"][0]["image"].endswith(f"/serving:{build['tag']}")
    assert env["MLOPS_MODEL_VERSION"] == "3"
    outputs = unwrap_secrets(run.outputs)["endpoints"]["diagnosis"]
    assert outputs["model_version"] == "3"
    deployment = _deployment(run)
    assert deployment["version"] == "3"
    assert deployment["project"] == PROJECT
    assert deployment["region"] == REGION
    assert outputs["url"] == (
        f"https://{deployment['service']}-{NUMBER}.{REGION}.run.app/invocations"
    )


def test_nothing_passed_deploys_nothing_and_raises_nothing() -> None:
    # A fresh stack: no native service exists that would need an image or a model.
    run = synth(_spec("dev"), mocks=GcpMocks(served_version=None))
    assert not [n for n in run.names(SERVICE) if n.startswith("mlops-endpoint")]
    assert _deployment(run).get("version") is None
    outputs = unwrap_secrets(run.outputs)["endpoints"]["diagnosis"]
    assert outputs["url"] is None
    assert outputs["model_version"] is None


def test_service_is_internal_never_public_and_reads_models_only(run: ProgramRun) -> None:
    service = _service(run)
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert service["invokerIamDisabled"] is False
    assert not [n for n in run.names(SERVICE_IAM) if n.startswith("mlops-endpoint")]
    account = run.inputs(ACCOUNT, "mlops-endpoint-diagnosis-server-sa")["accountId"]
    email = f"{account}@{PROJECT}.iam.gserviceaccount.com"
    assert service["template"]["serviceAccount"] == email
    # The stack-built image carries the model: the identity reads nothing of the bucket.
    assert not [
        g
        for g in run.of_type(BUCKET_IAM)
        if g.plain_inputs()["member"] == f"serviceAccount:{email}"
    ]


def test_public_endpoint_opens_ingress_but_still_needs_an_invoker_role() -> None:
    run = synth(_spec("dev", public=True, gpu=None, canary_percent=None))
    service = _service(run)
    assert service["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert service["invokerIamDisabled"] is False
    for grant in run.of_type(SERVICE_IAM):
        assert grant.plain_inputs()["member"] not in ("allUsers", "allAuthenticatedUsers")


def test_scales_to_zero_with_one_l4_per_instance(run: ProgramRun) -> None:
    template = _service(run)["template"]
    assert template["scaling"] == {"minInstanceCount": 0, "maxInstanceCount": 4}
    assert template["maxInstanceRequestConcurrency"] == 8
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    assert template["gpuZonalRedundancyDisabled"] is False
    resources = template["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert resources["cpuIdle"] is False
    assert template["containers"][0]["startupProbe"]["httpGet"] == {"path": "/ping", "port": 8080}


def test_cpu_endpoint_defaults_to_the_profile_replicas() -> None:
    spec = _spec("dev", gpu=None, min_replicas=None, canary_percent=None)
    template = _service(synth(spec))["template"]
    assert template["scaling"]["minInstanceCount"] == 1
    assert "nodeSelector" not in template
    assert template["containers"][0]["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}


def test_the_deployment_names_its_service_and_carries_the_canary(run: ProgramRun) -> None:
    deployment = _deployment(run)
    assert deployment["service"].startswith("mlops-endpoint-diagnosis")
    assert len(deployment["service"]) <= 40
    assert deployment["canary_percent"] == 10
    # The deployment sets the revision name and the traffic itself (see _deployment).
    assert "revision" not in _service(run)["template"]
    assert "traffic" not in _service(run)
    labels = _service(run)["template"]["labels"]
    assert labels["mlops-model"] == "diagnosis"


def test_instance_types_are_refused_on_cloud_run() -> None:
    with pytest.raises(BackendError, match="no instance types"):
        synth(_spec("dev", gpu=None, instance_type="n1-standard-4", canary_percent=None))
