"""A local pipeline runs inside ``up`` in every tier: only the user's own ``false`` is refused.

The staging and production tiers default ``wait_for_run`` to false for clouds (the run goes
on after ``up``); since components resolve tier defaults once, the local backend must judge
the user's setting, not the tier's (the promotion test's staging stack failed on it).
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


def test_an_explicit_false_is_refused_with_what_to_do() -> None:
    spec = spec_from_config(_local("staging", wait_for_run=False))
    with pytest.raises(BackendError, match="wait_for_run: false is not supported on the local"):
        plan_stack(spec, stack="local", project_dir=REPO)
