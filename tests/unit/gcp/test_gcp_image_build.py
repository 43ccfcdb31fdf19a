"""``CloudBuildImage`` against a contract fake of Cloud Build v1 and Artifact Registry v1.

The fake follows the documented requests and answers:
https://cloud.google.com/build/docs/api/reference/rest/v1/projects.locations.builds/create
(``POST {parent}/builds``, body a ``Build``; answer an ``Operation`` whose
``metadata.build`` carries the build's ``id``),
https://cloud.google.com/build/docs/api/reference/rest/v1/projects.locations.builds/list
(``filter`` such as ``tags="x"``,
https://cloud.google.com/build/docs/view-build-results#filtering_build_results_using_queries),
https://cloud.google.com/build/docs/api/reference/rest/v1/projects.locations.builds/get
(``status``: QUEUED, WORKING, SUCCESS, FAILURE…), and
https://cloud.google.com/artifact-registry/docs/reference/rest/v1/projects.locations.repositories.packages.tags/get
(404 for a tag that does not exist). A build with a user-specified service account must
choose its logging (https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts);
the fake refuses one that does not, as Cloud Build does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google_fake import Call, FakeGoogle, fake_google

from mlops_infra.backends.gcp import image_build
from mlops_infra.backends.gcp._api import RestError
from mlops_infra.backends.gcp.image_build import build_image, build_request

PROJECT = "acme-ml"
REGION = "europe-west4"
REGISTRY = f"{REGION}-docker.pkg.dev/{PROJECT}/mlops-registry-1a2b3c"
TAG = "runtime-0123456789abcdef"
BUILDS = f"/v1/projects/{PROJECT}/locations/{REGION}/builds"
TAGS = (
    f"/v1/projects/{PROJECT}/locations/{REGION}/repositories/mlops-registry-1a2b3c"
    r"/packages/(?P<package>[^/]+)/tags/(?P<tag>[^/]+)"
)


class Killed(BaseException):
    """The provider process dying (SIGKILL of ``pulumi up``) while it waits."""


class FakeCloudBuild:
    """Builds of one project and region; a build ends ``outcome`` after ``polls`` GETs and,
    on success, its image's tag exists in the registry (what the docker push does)."""

    def __init__(self, fake: FakeGoogle, *, polls: int = 2, outcome: str = "SUCCESS") -> None:
        self.builds: list[dict[str, Any]] = []
        self.tags: set[tuple[str, str]] = set()
        self.polls, self.outcome = polls, outcome
        self.gets: dict[str, int] = {}
        fake.route("POST", rf"{BUILDS}$", self.create)
        fake.route("GET", rf"{BUILDS}$", self.list)
        fake.route("GET", rf"{BUILDS}/(?P<id>[^/]+)$", self.get)
        fake.route("GET", TAGS, self.tag)

    def create(self, call: Call) -> tuple[int, Any]:
        body = call.body
        if body.get("serviceAccount") and "logging" not in body.get("options", {}):
            return 400, {
                "error": {"code": 400, "message": "build.service_account requires logging"}
            }
        assert re.fullmatch(r"projects/[^/]+/serviceAccounts/[^/]+@[^/]+", body["serviceAccount"])
        for tag in body.get("tags", []):
            assert re.fullmatch(r"[\w][\w.-]{0,127}", tag), tag
        build = {"id": f"build-{len(self.builds) + 1}", "status": "QUEUED", **body}
        self.builds.insert(0, build)
        return 200, {"name": f"operations/{build['id']}", "metadata": {"build": build}}

    def list(self, call: Call) -> tuple[int, Any]:
        match = re.fullmatch(r'tags="(?P<tag>[^"]+)"', call.query.get("filter", ""))
        assert match, call.query
        found = [b for b in self.builds if match["tag"] in b.get("tags", [])]
        return 200, {"builds": found} if found else {}

    def get(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        for build in self.builds:
            if build["id"] == call.match["id"]:
                seen = self.gets[build["id"]] = self.gets.get(build["id"], 0) + 1
                if build["status"] in ("QUEUED", "WORKING"):
                    build["status"] = "WORKING" if seen < self.polls else self.outcome
                    if build["status"] == "SUCCESS":
                        _, _, rest = build["images"][0].rpartition("/")
                        package, _, tag = rest.partition(":")
                        self.tags.add((package, tag))
                    elif build["status"] == "FAILURE":
                        build["statusDetail"] = "step 0 exited with 1"
                        build["logUrl"] = "https://console.cloud.google.com/cloud-build/x"
                return 200, build
        return 404, {"error": {"code": 404}}

    def tag(self, call: Call) -> tuple[int, Any]:
        assert call.match is not None
        if (call.match["package"], call.match["tag"]) in self.tags:
            return 200, {"name": call.path}
        return 404, {"error": {"code": 404, "message": "not found"}}


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudBuild]:
    with fake_google() as fake:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.credentials_file(tmp_path)))
        monkeypatch.setattr(image_build, "BUILD_API", f"{fake.root}/v1")
        monkeypatch.setattr(image_build, "REGISTRY_API", f"{fake.root}/v1")
        monkeypatch.setattr(image_build, "_POLL_S", 0.0)
        yield FakeCloudBuild(fake)


def _props(tag: str | None = TAG, **changes: Any) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "region": REGION,
        "registry_url": REGISTRY,
        "image_name": "runtime",
        "tag": tag,
        "bucket": "mlops-store-a1b2c3d",
        "context_object": f"images/{TAG}/context.tar.gz",
        "steps": [
            {
                "name": "gcr.io/cloud-builders/docker",
                "args": ["build", "--tag", f"{REGISTRY}/runtime:{TAG}", "."],
            }
        ],
        "service_account": f"mlops-job-fit-builder@{PROJECT}.iam.gserviceaccount.com",
        "timeout_s": 600,
        **changes,
    }


def test_builds_once_then_finds_the_tag(cloud: FakeCloudBuild) -> None:
    first = build_image(_props(), sleep=lambda _s: None)
    again = build_image(_props(), sleep=lambda _s: None)
    image = f"{REGISTRY}/runtime:{TAG}"
    assert (first["image"], first["status"]) == (image, "built")
    assert (again["image"], again["status"]) == (image, "exists")
    (build,) = cloud.builds
    assert build["source"] == {
        "storageSource": {"bucket": "mlops-store-a1b2c3d", "object": f"images/{TAG}/context.tar.gz"}
    }
    assert build["steps"] == [
        {"name": "gcr.io/cloud-builders/docker", "args": ["build", "--tag", image, "."]}
    ]
    assert build["images"] == [image]
    assert build["tags"] == ["mlops-infra", TAG]
    assert build["options"] == {"logging": "CLOUD_LOGGING_ONLY"}
    assert build["timeout"] == "600s"


def test_nothing_to_build(cloud: FakeCloudBuild) -> None:
    outs = build_image(_props(None))
    assert (outs["image"], outs["status"]) == (None, "nothing to build")
    assert cloud.builds == []


def test_killed_while_waiting_then_retried_adopts(cloud: FakeCloudBuild) -> None:
    def die(_s: float) -> None:
        raise Killed

    cloud.polls = 3
    with pytest.raises(Killed):
        build_image(_props(), sleep=die)
    outs = build_image(_props(), sleep=lambda _s: None)
    assert outs["status"] == "built"
    assert len(cloud.builds) == 1  # adopted, not built again


def test_failed_build_stops_up_with_its_detail_and_logs(cloud: FakeCloudBuild) -> None:
    cloud.outcome = "FAILURE"
    with pytest.raises(
        RestError, match=r"build build-1 FAILURE: step 0 exited with 1 \(logs: https://console"
    ):
        build_image(_props(), sleep=lambda _s: None)


def test_a_build_refused_because_another_pushed_the_same_tag_is_not_a_failure(
    cloud: FakeCloudBuild,
) -> None:
    cloud.outcome = "FAILURE"

    def concurrent_push(_s: float) -> None:
        cloud.tags.add(("runtime", TAG))

    outs = build_image(_props(), sleep=concurrent_push)
    assert outs["status"] == "exists"


def test_still_running_at_the_timeout_fails_up_and_keeps_the_build(cloud: FakeCloudBuild) -> None:
    cloud.polls = 10**6
    with pytest.raises(RestError, match="still WORKING after 0s"):
        build_image(_props(timeout_s=0.000001), sleep=lambda _s: None)
    assert len(cloud.builds) == 1


def test_the_request_without_logging_is_what_cloud_build_refuses() -> None:
    request = build_request(_props())
    assert request["serviceAccount"] == (
        f"projects/{PROJECT}/serviceAccounts/mlops-job-fit-builder@{PROJECT}.iam.gserviceaccount.com"
    )
    assert request["options"]["logging"] == "CLOUD_LOGGING_ONLY"
