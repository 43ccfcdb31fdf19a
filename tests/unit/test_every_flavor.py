"""Every flavor of every built-in cloud is planned and policy-checked (issue 16, acceptance 3).

The example stacks (``stacks/Pulumi.*.yaml``) plan their cloud's default flavors; every
other flavor is planned here on a variant of its cloud's example stack, in which the
concept's ``flavor:`` names it (its ``options`` are dropped, or taken from
:data:`OPTIONS`), and the plan must pass every policy, with the project's suppressions.
A flavor that cannot pass yet is listed in :data:`KNOWN_FAILURES` with the issue that
tracks it; the test fails when such a flavor starts passing, so the list stays true.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_infra.plan import plan_stack
from mlops_infra.policies import SUPPRESSIONS_FILE, all_rules, load_suppressions, run_policies
from mlops_infra.registry import Flavor, default_registry
from mlops_infra.specs.loading import read_stack_file, spec_from_config
from tests.unit.plan.planfix import REPO

EXAMPLES = {"aws": "dev", "gcp": "gcp-dev", "azure": "azure-dev", "local": "local"}
"""The example stack each built-in cloud's variants start from."""

FIELDS = {
    "artifact_store": "artifact_store",
    "tracking_server": "tracking",
    "training_cluster": "clusters",
    "training_job": "jobs",
    "pipeline": "pipelines",
    "serving_endpoint": "endpoints",
}
"""Where a stack file names each kind's flavor (a mapping, or a list of them)."""

JOB = {"name": "fit", "component": "diagnosis.train"}
"""The job a variant adds when its example stack has none."""

OPTIONS: dict[str, dict[str, Any]] = {
    # TLS on the listener (MLOPS-AWS-LB-001); the certificate names the domain.
    "aws/tracking_server/self-hosted": {
        "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0000-mlflow",
        "domain": "mlflow.internal.example.com",
    },
}
"""Options a flavor needs in a variant, by ``cloud/kind/flavor``."""


def _private_network(stack: dict[str, Any]) -> None:
    stack["network"] = {"create": True}


def _on_a_batch_pool(stack: dict[str, Any]) -> None:
    _private_network(stack)
    stack["clusters"] = [*stack.get("clusters", []), {"name": "pool", "flavor": "batch"}]
    stack["jobs"][-1]["cluster"] = "pool"


CHANGES: dict[str, Any] = {
    # Both run in the stack's VPC (their backends say so when it has none).
    "aws/tracking_server/self-hosted": _private_network,
    "aws/training_cluster/batch": _private_network,
    # A Batch job definition runs on a Batch pool.
    "aws/training_job/batch": _on_a_batch_pool,
}
"""What else a flavor needs changed in its variant's stack, by ``cloud/kind/flavor``."""

KNOWN_FAILURES: dict[str, str] = {}
"""Flavors that do not plan or pass yet, by ``cloud/kind/flavor``, with the tracking issue."""


def _items(stack: dict[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    value = stack.get(FIELDS[kind])
    if isinstance(value, dict):
        yield value
    elif isinstance(value, list):
        yield from value


def _example(cloud: str) -> dict[str, Any]:
    return read_stack_file(REPO / "stacks" / f"Pulumi.{EXAMPLES[cloud]}.yaml")


def _planned_by_examples() -> set[str]:
    registry = default_registry()
    used: set[str] = set()
    for cloud in EXAMPLES:
        stack = _example(cloud)["mlops:stack"]
        used.add(registry.flavor(cloud, "foundation").label)
        for kind in FIELDS:
            items = list(_items(stack, kind)) or (
                [{}] if kind in ("artifact_store", "tracking_server") else []
            )
            used |= {registry.flavor(cloud, kind, item.get("flavor")).label for item in items}
    return used


def _variants() -> list[Flavor]:
    planned = _planned_by_examples()
    return [
        flavor
        for cloud in EXAMPLES
        for flavor in default_registry().flavors(cloud)
        if flavor.label not in planned
    ]


def variant(flavor: Flavor) -> dict[str, Any]:
    """The config of ``flavor``'s cloud's example stack, with ``flavor`` chosen.

    A cluster or a job of the flavor is added beside the example's own (pipelines and
    endpoints may rely on those); a store, tracking server, pipeline or endpoint is switched.
    """
    config = copy.deepcopy(_example(flavor.cloud))
    stack: dict[str, Any] = config["mlops:stack"]
    field = FIELDS[flavor.kind]
    chosen: dict[str, Any] = {"flavor": flavor.name}
    if flavor.label in OPTIONS:
        chosen["options"] = OPTIONS[flavor.label]
    if field == "clusters":
        stack[field] = [*stack.get(field, []), {"name": "variant", "max_nodes": 1, **chosen}]
    elif field == "jobs":
        stack[field] = [*stack.get(field, []), {**JOB, **chosen}]
    else:
        stack.setdefault(field, {})
        for item in _items(stack, flavor.kind):
            item.pop("options", None)
            item.update(chosen)
    if flavor.label in CHANGES:
        CHANGES[flavor.label](stack)
    return config


def test_every_flavor_is_covered() -> None:
    """Each flavor is planned by an example stack or by a variant here."""
    every = {f.label for cloud in EXAMPLES for f in default_registry().flavors(cloud)}
    assert _planned_by_examples() | {f.label for f in _variants()} == every
    assert set(KNOWN_FAILURES) <= every


# pulumi_gcp.compute warns about its own deprecated aliases when it is imported.
@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
@pytest.mark.parametrize("flavor", _variants(), ids=lambda f: f.label)
def test_flavor_is_planned_and_passes_the_policies(flavor: Flavor) -> None:
    try:
        spec = spec_from_config(variant(flavor))
        plan = plan_stack(spec, stack=EXAMPLES[flavor.cloud], project_dir=REPO)
        types = {r.type for r in plan.resources}
        suppressions = load_suppressions(
            REPO / "stacks" / SUPPRESSIONS_FILE, [r.id for r in all_rules()]
        )
        report = run_policies(plan, suppressions=suppressions)
        problems = [
            f"{f.rule.id} {f.resource.name}: {f.outcome.message}" for f in report.violations
        ]
    except Exception as error:  # reported as the flavor's failure below
        problems = [f"{type(error).__name__}: {error}"]
        types = set()
    if flavor.label in KNOWN_FAILURES:
        assert problems, f"{flavor.label} passes now: remove it from KNOWN_FAILURES"
        pytest.xfail(KNOWN_FAILURES[flavor.label])
    assert not problems, "\n".join(problems)
    implementation = default_registry().load(flavor)
    assert implementation.__module__ == flavor.implementation.partition(":")[0]
    assert any(not t.startswith("mlops:") for t in types), "the flavor registered no resource"
