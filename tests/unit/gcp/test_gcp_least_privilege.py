"""Issue 14.9: bucket grants scoped by IAM Conditions on object prefixes.

Every runner had ``objectUser`` on the whole bucket (it could overwrite other pipelines'
packages and anything else) and serving ``objectViewer`` on everything. Conditions on
``resource.name.startsWith("projects/_/buckets/<b>/objects/<prefix>")``
(https://cloud.google.com/storage/docs/access-control/iam#conditions) keep a runner to
its own packages and MLflow's artifact root, and serving with its own image to the
served model's folder; the stack-built serving image carries its model and reads nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from gcp_mocks import BUCKET_IAM, DYNAMIC, SERVED_SOURCE, GcpMocks, base_spec, synth
from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.backends.gcp._iam import object_prefix, prefix_condition
from mlops_infra.backends.gcp.serving_endpoint import served_prefix

ROOT = "projects/_/buckets/mlops-store-a1b2c3d"


def _condition(*prefixes: str) -> str:
    return " || ".join(
        [f'resource.name == "{ROOT}"']
        + [f'resource.name.startsWith("{ROOT}/objects/{p}")' for p in prefixes]
    )


@pytest.mark.parametrize(
    ("uri", "parts", "expected"),
    [
        ("gs://b", ("mlflow",), "mlflow/"),
        ("gs://b/ml/", ("mlflow",), "ml/mlflow/"),
        ("gs://b/mlflow/1/models/m-1/artifacts", (), "mlflow/1/models/m-1/artifacts/"),
    ],
)
def test_object_prefixes_end_with_a_slash(uri: str, parts: tuple[str, ...], expected: str) -> None:
    assert object_prefix(uri, *parts) == expected


def test_the_condition_admits_listing_and_the_prefixes_only() -> None:
    assert prefix_condition("b", ["mlflow/", "pipelines/churn/"]) == (
        'resource.name == "projects/_/buckets/b" || '
        'resource.name.startsWith("projects/_/buckets/b/objects/mlflow/") || '
        'resource.name.startsWith("projects/_/buckets/b/objects/pipelines/churn/")'
    )


def test_served_prefix_is_the_model_folder_else_mlflows_root() -> None:
    assert served_prefix("gs://acme-models", SERVED_SOURCE) == "mlflow/1/models/m-1/artifacts/"
    assert served_prefix("gs://acme-models", None) == "mlflow/"
    # A source outside the store's bucket gets nothing of it beyond MLflow's root.
    assert served_prefix("gs://acme-models", "gs://elsewhere/m") == "mlflow/"


def _grant(run: Any, name: str) -> dict[str, Any]:
    grant = run.inputs(BUCKET_IAM, name)
    return {"role": grant["role"], **grant["condition"]}


def test_a_pipeline_runner_reads_and_writes_its_packages_and_mlflow_only() -> None:
    pipeline = {"name": "churn", "steps": [{"name": "train", "component": "diagnosis.train"}]}
    run = synth(base_spec("dev", pipelines=[pipeline]))
    assert _grant(run, "mlops-pipeline-churn-runner-artifacts") == {
        "role": "roles/storage.objectUser",
        "title": "runner-artifacts prefixes",
        "description": "mlops-infra: only the objects this identity needs",
        "expression": _condition("mlflow/", "pipelines/churn/"),
    }


def test_a_job_runner_reads_and_writes_its_packages_and_mlflow_only() -> None:
    run = synth(base_spec("dev", jobs=[{"name": "tune", "component": "diagnosis.train"}]))
    assert _grant(run, "mlops-job-tune-runner-artifacts")["expression"] == _condition(
        "mlflow/", "jobs/tune/"
    )


ENDPOINT = {"name": "churn", "model": "churn", "external_model": True}


class _StoreSourceMocks(GcpMocks):
    """The gate serves a model logged to the stack's own store."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == DYNAMIC + "PromotionDecision" and state.get("served_source"):
            state["served_source"] = "gs://mlops-store-a1b2c3d/mlflow/1/models/m-1/artifacts"
        return resource_id, state


@pytest.mark.parametrize(
    ("served", "prefix"), [("3", "mlflow/1/models/m-1/artifacts/"), (None, "mlflow/")]
)
def test_serving_with_its_own_image_reads_the_served_model_only(
    served: str | None, prefix: str
) -> None:
    endpoint = {**ENDPOINT, "options": {"image": "europe-docker.pkg.dev/acme/m/serve:1"}}
    run = synth(
        base_spec("dev", endpoints=[endpoint]), mocks=_StoreSourceMocks(served_version=served)
    )
    assert _grant(run, "mlops-endpoint-churn-models") == {
        "role": "roles/storage.objectViewer",
        "title": "models prefixes",
        "description": "mlops-infra: only the objects this identity needs",
        "expression": _condition(prefix),
    }
