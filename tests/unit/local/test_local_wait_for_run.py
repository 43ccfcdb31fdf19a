"""A local pipeline runs inside ``up`` in every tier: only the user's own ``false`` is refused.

The staging and production tiers default ``wait_for_run`` to false for clouds (the run goes
on after ``up``); the local cloud declares that its pipelines run inside ``up``
(``CloudInfo.runs_pipelines_in_up``), so the default resolves to true there and only the
user's own false is refused (the promotion test's staging stack failed before).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mlops_infra.errors import BackendError
from mlops_infra.plan import plan_stack
from mlops_infra.specs.loading import read_stack_file, spec_from_config
from tests.unit.plan.planfix import REPO


def _local(environment: str, **pipeline: Any) -> dict[str, Any]:
    config = copy.deepcopy(read_stack_file(REPO / "stacks" / "Pulumi.local.yaml"))
    config["mlops:environment"] = environment
    config["mlops:stack"]["pipelines"][0].update(pipeline)
    return config


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_a_local_pipeline_plans_in_tiers_that_do_not_wait_on_clouds(environment: str) -> None:
    plan = plan_stack(spec_from_config(_local(environment)), stack="local", project_dir=REPO)
    assert "pulumi-python:dynamic/mlops:LocalPipeline" in {r.type for r in plan.resources}
    # What the component registers is what happens: the run is waited for inside `up`.
    (pipeline,) = [r for r in plan.resources if r.type == "mlops:index:Pipeline"]
    assert pipeline.inputs["spec"]["wait_for_run"] is True


def test_an_explicit_false_is_refused_with_what_to_do() -> None:
    spec = spec_from_config(_local("staging", wait_for_run=False))
    with pytest.raises(BackendError, match="wait_for_run: false is not supported on the local"):
        plan_stack(spec, stack="local", project_dir=REPO)
