"""Components register their effective spec; facts, the ML summary and CrossGuard read it.

A component composed in Python (no stack file) is judged by what it built, not by its
environment's defaults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from mlops_infra import (
    ArtifactStore,
    ArtifactStoreArgs,
    ArtifactStoreSpec,
    ServingEndpoint,
    ServingEndpointArgs,
    ServingEndpointSpec,
    Target,
    TrackingServer,
    TrackingServerArgs,
    TrackingServerSpec,
)
from mlops_infra.plan import Plan, PlannedResource, plan_program
from mlops_infra.policies import rule, run_policies
from mlops_infra.policies.crossguard import CrossGuardSettings, policy_for
from mlops_infra.resources import decode_component_inputs
from mlops_infra.specs import ExistingTrackingServer
from mlops_infra.testing import FAKE_CLOUD, EchoMocks, fake_registry, run_stack

REPO = Path(__file__).resolve().parents[3]

_STACK: dict[str, Any] = {
    "cloud": "fake",
    "environment": "prod",
    "tags": {"team": "ml"},
    "pipelines": [
        {
            "name": "diagnosis",
            "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
            "steps": [{"name": "featurize", "component": "diagnosis.featurize"}],
        }
    ],
    "endpoints": [
        {
            "name": "diagnosis",
            "model": "diagnosis",
            "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]},
        }
    ],
}


def _plan(program: Any) -> Plan:
    return plan_program(program, stack="dev", project_dir=REPO, mocks=EchoMocks())


def _component(plan: Plan, type_: str) -> PlannedResource:
    (found,) = [r for r in plan.resources if r.type == f"mlops:index:{type_}"]
    return found


def test_component_inputs_are_the_effective_spec() -> None:
    run = run_stack(_STACK, registry=fake_registry(), project_dir=REPO, stack="prod")

    def registered(kind: str) -> dict[str, Any]:
        (found,) = run.of_type(f"mlops:index:{kind}")
        text = found.plain_inputs()
        # Registered as JSON text (cheap for the SDK to serialize), decoded by every reader.
        assert all(isinstance(text[key], str) for key in text)
        return decode_component_inputs(found.type, text)

    tracking, endpoint = registered("TrackingServer"), registered("ServingEndpoint")
    pipeline = registered("Pipeline")
    # The spec left these to the tier; production decides them, once, in the component.
    assert (tracking["spec"]["auth"], tracking["spec"]["high_availability"]) == (True, True)
    assert endpoint["spec"]["min_replicas"] == 2
    assert pipeline["spec"]["wait_for_run"] is False
    assert len(pipeline["version_manifest"]["version"]) == 16
    assert tracking["target"] == {
        "cloud": "fake",
        "environment": "prod",
        "tier": "production",
        "protect_stateful": True,
        "tags": {"team": "ml"},
        "limits": {"max_gpus_per_node": 8, "max_total_gpus": 64},
        "network": "default",
        "registry_immutable_tags": True,
        "registry_scan_on_push": True,
    }


def test_component_inputs_carry_no_secret() -> None:
    target = Target(cloud=FAKE_CLOUD, environment="staging", registry=fake_registry())
    password = "s3cr3t-admin-password"

    def program() -> None:
        store = ArtifactStore("ml", ArtifactStoreArgs(target=target, spec=ArtifactStoreSpec()))
        TrackingServer(
            "ml-tracking",
            TrackingServerArgs(
                target=target,
                spec=TrackingServerSpec(admin_password_config_key="tracking-admin"),
                store=store.ref,
                admin_password=pulumi.Output.secret(password),
            ),
        )
        TrackingServer(
            "ml-adopted",
            TrackingServerArgs(
                target=target,
                existing=ExistingTrackingServer(
                    url="https://mlflow.example.com", password_config_key="mlflow-password"
                ),
                store=store.ref,
                admin_password=pulumi.Output.secret(password),
            ),
        )

    plan = _plan(program)
    components = [r for r in plan.resources if r.type.startswith("mlops:index:")]
    assert len(components) == 3
    for component in components:
        assert password not in json.dumps(component.inputs)
        assert "[secret]" not in json.dumps(component.inputs)
    by_name = {r.name: r for r in components}
    created, adopted = by_name["ml-tracking"], by_name["ml-adopted"]
    # Secrets are named by config key; the key is what is registered.
    assert created.inputs["spec"]["admin_password_config_key"] == "tracking-admin"
    assert adopted.inputs["spec"]["existing"] == {
        "url": "https://mlflow.example.com",
        "password_config_key": "mlflow-password",
    }


def _unauthenticated_staging_server() -> Plan:
    target = Target(cloud=FAKE_CLOUD, environment="staging", registry=fake_registry())

    def program() -> None:
        store = ArtifactStore("ml", ArtifactStoreArgs(target=target, spec=ArtifactStoreSpec()))
        TrackingServer(
            "ml-tracking",
            TrackingServerArgs(target=target, spec=TrackingServerSpec(auth=False), store=store.ref),
        )

    return _plan(program)


def test_a_tracking_server_composed_in_python_is_judged_by_what_it_built() -> None:
    plan = _unauthenticated_staging_server()
    # Staging's default is auth on; this server was built without it.
    assert (plan.facts.tier, plan.facts.tracking_auth) == ("staging", False)
    assert _component(plan, "TrackingServer").inputs["spec"]["auth"] is False
    violations = [(f.rule.id, f.resource.name) for f in run_policies(plan).violations]
    assert ("MLOPS-TRACK-001", "ml-tracking") in violations


def test_crossguard_judges_the_component_by_its_inputs_not_the_config() -> None:
    server = _component(_unauthenticated_staging_server(), "TrackingServer")
    # The stack's config alone says staging, whose tracking servers authenticate.
    settings = CrossGuardSettings(stack="staging", config={"mlops:environment": "staging"})
    assert settings.facts.tracking_auth is True
    policy = policy_for(rule("MLOPS-TRACK-001"), settings)
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    options = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    args = ResourceValidationArgs(
        server.type,
        unknown_checking_proxy(dict(server.inputs)),
        server.urn,
        server.name,
        options,
        None,
    )
    policy.validate(args, lambda message, urn=None: found.append(message))
    assert found == [
        "ml-tracking: the tracking server accepts unauthenticated requests; "
        "remove tracking.auth: false"
    ]
    assert settings.facts_for().tracking_auth is False


def test_an_endpoint_composed_in_python_gets_facts_and_ml_from_what_it_built() -> None:
    target = Target(cloud=FAKE_CLOUD, environment="prod", registry=fake_registry())

    def program() -> None:
        store = ArtifactStore("ml", ArtifactStoreArgs(target=target, spec=ArtifactStoreSpec()))
        tracking = TrackingServer("ml-tracking", TrackingServerArgs(target=target, store=store.ref))
        ServingEndpoint(
            "ml-serve",
            ServingEndpointArgs(
                target=target,
                spec=ServingEndpointSpec(name="churn", model="churn", min_replicas=1),
                tracking=tracking.ref,
                store=store.ref,
            ),
        )

    plan = _plan(program)
    (endpoint,) = plan.facts.endpoints
    # Production keeps 2 replicas by default; this endpoint was built with 1.
    assert (endpoint.component, endpoint.name, endpoint.min_replicas) == ("ml-serve", "churn", 1)
    assert plan.facts.compute_of("ml-serve") is not None
    assert plan.ml["endpoints"]["churn"]["min_replicas"] == 1
    violations = [(f.rule.id, f.resource.name) for f in run_policies(plan).violations]
    assert ("MLOPS-SERVE-003", "ml-serve") in violations
