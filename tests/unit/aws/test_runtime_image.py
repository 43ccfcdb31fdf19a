"""The runtime image of jobs and steps: built by the stack from a versioned build context."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.backends.aws._contract import RUNTIME_REQUIREMENTS
from mlops_infra.backends.aws._image_builder import CONTEXT_BUILDSPEC, PYTHON_BASE_IMAGE
from mlops_infra.errors import BackendError
from mlops_infra.images import component_requirements, runtime_source
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import job_manifest

from .helpers import REPO, run_aws

IMAGE = "pulumi-python:dynamic/mlops:ImageBuild"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
JOB: dict[str, Any] = {"name": "fit", "component": "diagnosis.featurize", "cluster": "gpu"}
CLUSTERS = [{"name": "gpu", "gpu": "l4"}]


def _expected_tag() -> str:
    manifest = job_manifest(TrainingJobSpec.model_validate(JOB), REPO)
    source = runtime_source(
        component_requirements(manifest.code, REPO / "components"),
        RUNTIME_REQUIREMENTS,
        base_image=PYTHON_BASE_IMAGE,
    )
    return source.tag


def test_the_job_runs_on_the_runtime_image_the_stack_builds() -> None:
    run = run_aws({"clusters": CLUSTERS, "jobs": [JOB]})
    tag = _expected_tag()
    job = run.one("pulumi-python:dynamic/mlops:SageMakerTrainingRun", "mlops-job-fit")
    image = job.plain_inputs()["request"]["AlgorithmSpecification"]["TrainingImage"]
    assert image.endswith(f".amazonaws.com/dev-mlops:{tag}")
    build = run.one(IMAGE, "mlops-job-fit-runtime-image")
    assert build.urn in job.depends_on  # the job starts once the image exists
    props = build.plain_inputs()
    assert props["tag"] == tag
    assert props["repository"] == "dev-mlops"
    assert props["environment"]["CONTEXT_URI"].endswith(f"/images/{tag}/context.tar.gz")
    context = run.one(OBJECT, "mlops-job-fit-runtime-context")
    assert context.urn in build.depends_on
    assert context.plain_inputs()["key"] == f"images/{tag}/context.tar.gz"
    project = run.inputs("aws:codebuild/project:Project", "mlops-job-fit-builder")
    assert project["source"] == {"type": "NO_SOURCE", "buildspec": CONTEXT_BUILDSPEC}
    assert project["environment"]["privilegedMode"] is True


def test_the_context_carries_the_library_and_every_requirement() -> None:
    tag = _expected_tag()
    archive = REPO / ".mlops" / "images" / f"{tag}.tar.gz"
    run_aws({"clusters": CLUSTERS, "jobs": [JOB]})
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        requirements = _read(tar, "requirements.txt").splitlines()
        dockerfile = _read(tar, "Dockerfile")
    assert {
        "Dockerfile",
        "mlops_infra/backends/aws/container_entry.py",
        "mlops_infra/runtime/step.py",
    } <= names
    assert not [n for n in names if "__pycache__" in n]
    # The components' requirement file and the SageMaker MLflow plugin; mlops-infra itself
    # is copied, never installed from an index.
    assert {"scikit-learn>=1.5", "pandas>=2.0", "sagemaker-mlflow>=0.5"} <= set(requirements)
    assert not [r for r in requirements if r.startswith("mlops-infra")]
    assert dockerfile.startswith(f"FROM {PYTHON_BASE_IMAGE}\n")


def _read(tar: tarfile.TarFile, name: str) -> str:
    member = tar.extractfile(name)
    assert member is not None
    return io.TextIOWrapper(member, encoding="utf-8").read()


def test_the_builder_reads_only_build_contexts_and_pushes_only_to_the_stack_repository() -> None:
    run = run_aws({"clusters": CLUSTERS, "jobs": [JOB]})
    policy = run.inputs(
        "aws:iam/rolePolicy:RolePolicy", "mlops-job-fit-builder-role-policy", parse_json=True
    )
    statements = {s["Sid"]: s for s in policy["policy"]["Statement"]}
    (objects,) = statements["BuildInputsObjects"]["Resource"]
    assert objects.startswith("arn:aws:s3:::")
    assert objects.endswith("/images/*")
    assert statements["PushImages"]["Resource"] == [
        "arn:aws:ecr:eu-west-1:123456789012:repository/dev-mlops"
    ]


def test_a_named_image_builds_nothing() -> None:
    own = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/own:1"
    run = run_aws({"clusters": CLUSTERS, "jobs": [{**JOB, "image": own}]})
    assert not [r for r in run.registrations if r.type in (IMAGE, "aws:codebuild/project:Project")]
    job = run.inputs("pulumi-python:dynamic/mlops:SageMakerTrainingRun", "mlops-job-fit")
    assert job["request"]["AlgorithmSpecification"]["TrainingImage"] == own


def test_no_registry_and_no_image_is_an_error_naming_both_ways_out() -> None:
    with pytest.raises(BackendError) as raised:
        run_aws({"registry": {"create": False}, "clusters": CLUSTERS, "jobs": [JOB]})
    message = str(raised.value)
    assert "mlops-job-fit: no registry to build the runtime image in" in message
    assert "set image:" in message
    assert "registry.create: true" in message


def test_the_tag_follows_the_components_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("scikit-learn>=1.5\n", encoding="utf-8")
    first = runtime_source(component_requirements(["requirements.txt", "a.py"], tmp_path))
    (tmp_path / "requirements.txt").write_text("scikit-learn>=1.6\n", encoding="utf-8")
    second = runtime_source(component_requirements(["requirements.txt", "a.py"], tmp_path))
    assert first.tag != second.tag
    assert first.tag.startswith("runtime-")
    assert second.tag == runtime_source(["scikit-learn>=1.6"]).tag
