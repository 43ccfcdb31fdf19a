"""Image builds with CodeBuild against moto (+ the build's effect: the pushed image)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws._api import AwsApi
from mlops_infra.backends.aws.image_build import build_image, marker_key

from .moto_fakes import REGION, CodeBuildRuns, aws

__all__ = ["aws"]

REPOSITORY = "dev-mlops"
BUCKET = "dev-mlops-store-abc123"
PROJECT = "dev-mlops-images"


class Killed(BaseException):
    """The provider process dying (SIGKILL of ``pulumi up``) while it waits."""


@pytest.fixture
def api(aws: None) -> AwsApi:
    del aws
    api = AwsApi(region=REGION, poll_s=0, sleep=lambda _s: None)
    url = api.client("ecr").create_repository(
        repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE"
    )["repository"]["repositoryUri"]
    assert url.endswith("/dev-mlops")
    api.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    api.client("codebuild").create_project(
        name=PROJECT,
        source={"type": "S3", "location": f"{BUCKET}/images/context.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_MEDIUM",
            "privilegedMode": True,
        },
        serviceRole="arn:aws:iam::123456789012:role/dev-mlops-images",
    )
    return api


def _props(tag: str | None = "serving-0123456789abcdef", **changes: Any) -> dict[str, Any]:
    return {
        "project_name": PROJECT,
        "region": REGION,
        "repository": REPOSITORY,
        "repository_url": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}",
        "tag": tag,
        "environment": {"BUILD_KIND": "serving", "MODEL_URI": "s3://store/m/"},
        "bucket": BUCKET,
        "timeout_s": 600,
        **changes,
    }


def _runs(api: AwsApi, **kwargs: Any) -> CodeBuildRuns:
    fake = CodeBuildRuns(REPOSITORY, **kwargs)
    fake.install(api.client("codebuild"))
    return fake


def test_builds_once_then_finds_the_tag(api: AwsApi) -> None:
    fake = _runs(api, polls=2)
    first = build_image(api, _props())
    again = build_image(api, _props())
    image = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:serving-0123456789abcdef"
    assert (first["image"], first["status"]) == (image, "built")
    assert (again["image"], again["status"]) == (image, "exists")
    (request,) = fake.started
    variables = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
    assert variables["IMAGE_TAG"] == "serving-0123456789abcdef"
    assert variables["MODEL_URI"] == "s3://store/m/"
    assert request["idempotencyToken"] == f"{PROJECT}-serving-0123456789abcdef"


def test_nothing_to_build(api: AwsApi) -> None:
    fake = _runs(api)
    outs = build_image(api, _props(None))
    assert (outs["image"], outs["status"]) == (None, "nothing to build")
    assert fake.started == []


def test_killed_while_waiting_then_retried_adopts(api: AwsApi) -> None:
    def die(_s: float) -> None:
        raise Killed

    dying = AwsApi(region=REGION, poll_s=0, sleep=die)
    fake = _runs(dying, polls=3)
    with pytest.raises(Killed):
        build_image(dying, _props())
    marker = api.client("s3").get_object(Bucket=BUCKET, Key=marker_key("serving-0123456789abcdef"))
    assert marker["Body"].read().decode().startswith(f"{PROJECT}:")
    fake.install(api.client("codebuild"))
    outs = build_image(api, _props())
    assert outs["status"] == "built"
    assert len(fake.started) == 1  # adopted, not built again


def test_failed_build_stops_up(api: AwsApi) -> None:
    _runs(api, outcome="FAILED")
    with pytest.raises(RuntimeError, match=r"build dev-mlops-images:.* FAILED in phase"):
        build_image(api, _props())


def test_a_build_refused_because_another_pushed_the_same_tag_is_not_a_failure(
    api: AwsApi,
) -> None:
    """Two components with the same runtime content start two builds; the second push is
    refused (immutable tags) but the tag names the same content, so both succeed."""
    tag = "runtime-0123456789abcdef"

    def concurrent_push(_s: float) -> None:
        import json

        api.client("ecr").put_image(
            repositoryName=REPOSITORY,
            imageManifest=json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "layers": [],
                }
            ),
            imageTag=tag,
        )

    racing = AwsApi(region=REGION, poll_s=0, sleep=concurrent_push)
    fake = _runs(racing, outcome="FAILED")
    outs = build_image(racing, _props(tag))
    assert (outs["status"], outs["image"]) == ("exists", f"{_props()['repository_url']}:{tag}")
    assert len(fake.started) == 1
