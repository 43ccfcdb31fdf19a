"""Issue 14.10: startup probes within Cloud Run's budget; the GPU quotas a stack needs.

Cloud Run refuses a startup probe whose ``failureThreshold * periodSeconds`` exceeds 240 s
(https://cloud.google.com/run/docs/configuring/healthchecks); the tracking server asked for
300 s and serving for 600 s. Cloud Run L4 GPUs have no default allocation
(run/docs/configuring/services/gpu) and Vertex AI A100/H100 usually need a quota increase
(vertex-ai/docs/quotas): ``check`` names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gcp_mocks import REPO, SERVICE, base_spec, gcp_registry, synth

from mlops_infra.backends.gcp.quotas import Quota, quota_lines, required_quotas
from mlops_infra.cli.check_cmd import quota_notes
from mlops_infra.specs import StackSpec

DEPLOYMENT = "pulumi-python:dynamic/mlops:GcpCloudRunDeployment"


def _within_budget(probe: dict[str, Any]) -> None:
    assert probe["failureThreshold"] * probe["periodSeconds"] <= 240
    assert probe.get("initialDelaySeconds", 0) <= 240


def test_startup_probes_fit_cloud_runs_budget() -> None:
    run = synth(
        base_spec(
            "dev",
            pipelines=[],
            endpoints=[{"name": "churn", "model": "churn", "external_model": True}],
        )
    )
    tracking = run.inputs(SERVICE, "mlops-tracking-service")["template"]["containers"][0]
    assert tracking["startupProbe"] == {
        "httpGet": {"path": "/health", "port": 8080},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
        "failureThreshold": 24,
    }
    _within_budget(tracking["startupProbe"])
    (deployment,) = run.of_type(DEPLOYMENT)
    serving = deployment.plain_inputs()["template"]["template"]["containers"][0]["startupProbe"]
    assert serving == {
        "httpGet": {"path": "/ping", "port": 8080},
        "periodSeconds": 10,
        "failureThreshold": 24,
    }
    _within_budget(serving)


def _spec(**extra: Any) -> StackSpec:
    return StackSpec.model_validate(base_spec("dev", **extra), context={"registry": gcp_registry()})


_RUN = "https://cloud.google.com/run/docs/configuring/services/gpu"
_VERTEX = "https://cloud.google.com/vertex-ai/docs/quotas"
_COMPUTE = "https://cloud.google.com/compute/resource-usage#gpu_quota"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, ()),
        (
            {"clusters": [{"name": "big", "gpu": "h100", "gpu_count": 8, "max_nodes": 2}]},
            (
                Quota("Vertex AI", "Custom model training NVIDIA_H100_80GB GPUs, per region",
                      "europe-west4", 16, "cluster 'big' (Vertex AI custom jobs)", True, _VERTEX),
            ),
        ),
        (
            {"clusters": [{"name": "l4", "gpu": "l4", "spot": True, "flavor": "gke", "max_nodes": 3}]},
            (
                Quota("Compute Engine", "preemptible NVIDIA_L4 GPUs, per region",
                      "europe-west4", 3, "cluster 'l4' (GKE node pool)", False, _COMPUTE),
            ),
        ),
        (
            {"endpoints": [{"name": "churn", "model": "churn", "external_model": True,
                            "gpu": "l4", "max_replicas": 4}]},
            (
                Quota("Cloud Run", "Total Nvidia L4 GPU allocation, per project per region (services)",
                      "europe-west4", 4, "endpoint 'churn'", True, _RUN),
            ),
        ),
    ],
)  # fmt: skip
def test_required_quotas(extra: dict[str, Any], expected: tuple[Quota, ...]) -> None:
    assert required_quotas(_spec(**extra)) == expected


def test_quota_lines_say_what_to_request() -> None:
    spec = _spec(clusters=[{"name": "big", "gpu": "a100-80gb", "gpu_count": 2}])
    assert quota_lines(spec) == [
        "quota: Vertex AI 'Custom model training NVIDIA_A100_80GB GPUs, per region' in "
        "europe-west4: 2 for cluster 'big' (Vertex AI custom jobs); usually none by default: "
        f"request an increase ({_VERTEX})"
    ]


def test_check_names_the_quotas_of_gcp_dev() -> None:
    assert quota_notes("gcp-dev", Path(REPO)) == [
        "gcp-dev: quota: Vertex AI 'Custom model training preemptible NVIDIA_L4 GPUs, per "
        f"region' in europe-west4: 1 for cluster 'gpu' (Vertex AI custom jobs) ({_VERTEX})"
    ]
