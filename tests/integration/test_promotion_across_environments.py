"""Promotion across environments on the real engine: a prod gate that requires the version
to have passed in staging refuses it until staging has passed it, and says why.

Two local stacks share one backend, as environments of one project do; prod reads
staging's gate history through a stack reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mlops_infra.testing.engine import EngineHarness
from tests.integration.local_support import configure, make_project, stack_spec

pytestmark = pytest.mark.integration


def _spec(*, threshold: float, passed_in: list[str] | None = None) -> dict[str, Any]:
    spec = stack_spec(threshold=threshold)
    if passed_in:
        spec["endpoints"][0]["gate"]["passed_in"] = passed_in
        # Production authenticates its tracking server (a generated admin password).
        spec["tracking"] = {"auth": True}
    # Local stacks in a production tier still have to be torn down by the test.
    spec["protect_stateful"] = False
    return spec


@pytest.fixture(scope="module")
def environments(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EngineHarness, EngineHarness]]:
    root = tmp_path_factory.mktemp("promotion")
    backend = root / "state"
    backend.mkdir()
    env = {"PULUMI_BACKEND_URL": backend.as_uri()}
    staging = EngineHarness(
        make_project(root / "staging"),
        "staging",
        env=env,
        config={"mlops:cloud": "local", "mlops:environment": "staging"},
    )
    prod = EngineHarness(
        make_project(root / "prod"),
        "prod",
        env=env,
        config={"mlops:cloud": "local", "mlops:environment": "prod"},
    )
    staging.init()
    prod.init()
    yield staging, prod
    prod.close()
    staging.close()


def _decision(harness: EngineHarness) -> dict[str, Any]:
    return harness.outputs()["endpoints"]["diagnosis"]["decision"]


def test_prod_refuses_a_version_that_never_passed_in_staging(
    environments: tuple[EngineHarness, EngineHarness],
) -> None:
    staging, prod = environments
    configure(staging, _spec(threshold=0.999))  # staging's gate refuses the model
    staging.up()
    assert _decision(staging)["outcome"] == "undeployed"
    assert _decision(staging)["passed_pipeline_versions"] == []

    configure(prod, _spec(threshold=0.9, passed_in=["staging"]))
    prod.up()
    decision = _decision(prod)
    version = prod.outputs()["pipelines"]["diagnosis"]["version"]
    assert decision["outcome"] == "undeployed"
    assert prod.outputs()["endpoints"]["diagnosis"]["model_version"] is None
    (staging_check,) = [c for c in decision["checks"] if c["check"] == "passed in staging"]
    assert staging_check["passed"] is False
    assert staging_check["detail"] == (
        f"pipeline version {version} never passed in staging (passed there: none)"
    )
    assert "failed the gate" in decision["reason"]
    assert "nothing is served" in decision["reason"]


def test_prod_promotes_the_version_once_staging_passed_it(
    environments: tuple[EngineHarness, EngineHarness],
) -> None:
    staging, prod = environments
    configure(staging, _spec(threshold=0.9))
    staging.up()
    version = staging.outputs()["pipelines"]["diagnosis"]["version"]
    assert _decision(staging)["passed_pipeline_versions"] == [version]

    prod.up()  # nothing changed in prod but the evidence from staging
    decision = _decision(prod)
    assert (
        prod.outputs()["pipelines"]["diagnosis"]["version"] == version
    )  # same content, same version
    assert decision["outcome"] == "promoted"
    assert prod.outputs()["endpoints"]["diagnosis"]["model_version"] == "1"


def _status(url: str, username: str, password: str) -> int:
    import base64
    import urllib.error
    import urllib.request

    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/api/2.0/mlflow/experiments/search?max_results=1",
        headers={"Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_changing_the_admin_password_rotates_it_on_the_running_server(
    environments: tuple[EngineHarness, EngineHarness],
) -> None:
    _, prod = environments
    spec = _spec(threshold=0.9, passed_in=["staging"])
    spec["tracking"] = {"auth": True, "admin_password_config_key": "trackingPassword"}
    configure(prod, spec)
    prod.set_config("mlops:trackingPassword", "rotated-Secret-123", secret=True)
    before = prod.stack_resources()
    summary = prod.up()
    assert summary.op("LocalMlflowServer::mlops-tracking") == "update"
    assert "starting mlflow server" not in "".join(
        str(d) for d in summary.diagnostics
    )  # no restart
    url = prod.outputs()["tracking_url"]
    assert _status(url, "admin", "rotated-Secret-123") == 200
    assert _status(url, "admin", "wrong-password") == 401
    after = prod.stack_resources()
    assert sorted(r.urn for r in after) == sorted(r.urn for r in before)
    assert prod.preview().changes == ()
