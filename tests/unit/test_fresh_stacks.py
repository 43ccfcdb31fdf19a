"""A fresh cloud stack deploys: with a registry where nothing has passed the gate, every
example program runs in ``up`` mode without raising, registers everything but the
version-specific serving deployment, and its endpoints say they are pending and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra import load_stack_file
from mlops_infra.offline import ProgramRun, run_offline
from mlops_infra.plan.mocks import PlanMocks
from mlops_infra.program import build_stack, secret_keys

REPO = Path(__file__).resolve().parents[2]
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
NOTHING_PASSED = {
    "outcome": "no-candidate",
    "candidate": None,
    "served": None,
    "previous": None,
    "passed": False,
    "reason": "no model version is registered yet",
    "metrics": {},
    "checks": [],
    "passed_pipeline_versions": [],
}


class EmptyRegistryMocks(PlanMocks):
    """Plan mocks whose gates find nothing to serve, as on a stack's first ``up``."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == GATE:
            state.update(
                {"served_version": None, "served_source": None, "decision": NOTHING_PASSED}
            )
        return resource_id, state


def _up(stack: str, *, empty_registry: bool) -> ProgramRun:
    spec = load_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
    mocks = (EmptyRegistryMocks if empty_registry else PlanMocks)(region=spec.region)

    def program() -> None:
        secrets = {key: pulumi.Output.secret(f"<{key}>") for key in secret_keys(spec)}
        build_stack(spec, project_dir=REPO, secrets=secrets)

    return run_offline(program, stack=stack, mocks=mocks)


def _outside_endpoints(run: ProgramRun) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.registrations if "ServingEndpoint" not in r.urn}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "gcp-dev", "azure-dev", "local"])
def test_a_fresh_stack_deploys_with_its_endpoints_pending(stack: str) -> None:
    run = _up(stack, empty_registry=True)
    # Everything a stack with a served model has outside its endpoints is there too.
    assert _outside_endpoints(run) == _outside_endpoints(_up(stack, empty_registry=False))
    endpoints = run.outputs["endpoints"]
    assert endpoints, "every example stack serves a model"
    for name, endpoint in endpoints.items():
        assert endpoint["status"] == "pending", name
        assert endpoint["model_version"] is None, name
        assert endpoint["url"] is None, name
        assert endpoint["decision"]["reason"] == "no model version is registered yet"
    for endpoint in run.of_type("mlops:index:ServingEndpoint"):
        # The gate and the alias are there; the alias is left alone.
        alias = run.named(f"{endpoint.name}-alias")
        assert alias.inputs.get("version") is None
        assert run.named(f"{endpoint.name}-gate").type == GATE
