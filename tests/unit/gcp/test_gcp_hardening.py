"""Issue 14.11: what an outside scanner asked of a production variant of ``gcp-dev``.

Cloud SQL PostgreSQL logs connections, disconnections, checkpoints, lock waits, host
names and errors (https://cloud.google.com/sql/docs/postgres/flags), pgAudit records schema
and privilege changes (https://cloud.google.com/sql/docs/postgres/pg-audit), and the VPC
denies ingress explicitly, admitting only its private subnet
(https://cloud.google.com/firewall/docs/firewalls). Policies MLOPS-GCP-SQL-005, SQL-006 and
VPC-001 catch a regression.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from gcp_mocks import PROJECT, SQL, base_spec, synth

from mlops_infra.backends.gcp.tracking_server import PRODUCTION_DATABASE_FLAGS
from mlops_infra.offline import ProgramRun
from mlops_infra.plan import Plan, plan_stack
from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies import SUPPRESSIONS_FILE, all_rules, load_suppressions, rule, run_policies
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Status
from mlops_infra.specs.loading import read_stack_file, spec_from_config
from tests.unit.plan.planfix import REPO

FIREWALL = "gcp:compute/firewall:Firewall"
NETWORK = "gcp:compute/network:Network"
RULES = ("MLOPS-GCP-SQL-005", "MLOPS-GCP-SQL-006", "MLOPS-GCP-VPC-001")


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return synth(base_spec("prod"), stack="prod")


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return synth(base_spec("dev"))


def test_production_postgres_logs_and_audits(prod: ProgramRun) -> None:
    flags = prod.inputs(SQL, "mlops-tracking-db")["settings"]["databaseFlags"]
    assert flags == [
        {"name": "log_checkpoints", "value": "on"},
        {"name": "log_connections", "value": "on"},
        {"name": "log_disconnections", "value": "on"},
        {"name": "log_lock_waits", "value": "on"},
        {"name": "log_hostname", "value": "on"},
        {"name": "log_min_messages", "value": "error"},
        {"name": "log_min_error_statement", "value": "error"},
        {"name": "cloudsql.enable_pgaudit", "value": "on"},
        {"name": "pgaudit.log", "value": "ddl,role"},
    ]
    assert dict(PRODUCTION_DATABASE_FLAGS) == {f["name"]: f["value"] for f in flags}


def test_development_postgres_sets_no_flags(dev: ProgramRun) -> None:
    assert dev.inputs(SQL, "mlops-tracking-db")["settings"].get("databaseFlags", []) == []


def test_the_network_denies_ingress_and_admits_its_subnet(
    prod: ProgramRun, dev: ProgramRun
) -> None:
    network = f"projects/{PROJECT}/global/networks/mlops-network-af6d98"
    assert prod.names(FIREWALL) == ["mlops-allow-internal", "mlops-deny-ingress"]
    deny = prod.inputs(FIREWALL, "mlops-deny-ingress")
    assert {k: v for k, v in deny.items() if k not in ("description", "project", "name")} == {
        "network": network,
        "direction": "INGRESS",
        "priority": 65534,
        "denies": [{"protocol": "all"}],
        "sourceRanges": ["0.0.0.0/0"],
        "logConfig": {"metadata": "INCLUDE_ALL_METADATA"},
    }
    allow = prod.inputs(FIREWALL, "mlops-allow-internal")
    assert {k: v for k, v in allow.items() if k not in ("description", "project", "name")} == {
        "network": network,
        "direction": "INGRESS",
        "priority": 1000,
        "allows": [{"protocol": "all"}],
        "sourceRanges": ["10.40.0.0/17"],
    }
    # Development drops the deny rule's logs (billed by volume), keeps the rule.
    assert "logConfig" not in dev.inputs(FIREWALL, "mlops-deny-ingress")


def _production_plan() -> Plan:
    config = copy.deepcopy(read_stack_file(REPO / "stacks" / "Pulumi.gcp-dev.yaml"))
    config["mlops:environment"] = "prod"
    # Production endpoints keep two replicas (MLOPS-SERVE-003); gcp-dev scales to zero.
    for endpoint in config["mlops:stack"]["endpoints"]:
        endpoint["min_replicas"] = 2
    return plan_stack(spec_from_config(config), stack="gcp-prod", project_dir=REPO)


@pytest.fixture(scope="module")
def production_plan() -> Plan:
    return _production_plan()


# pulumi_gcp.compute warns about its own deprecated aliases when it is imported.
@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
def test_a_production_variant_of_gcp_dev_passes_every_policy(production_plan: Plan) -> None:
    suppressions = load_suppressions(
        REPO / "stacks" / SUPPRESSIONS_FILE, [r.id for r in all_rules()]
    )
    report = run_policies(production_plan, suppressions=suppressions)
    problems = [f"{f.rule.id} {f.resource.name}: {f.outcome.message}" for f in report.violations]
    assert not problems, "\n".join(problems)
    passed = {t.rule.id: (t.applied, t.passed) for t in report.tallies() if t.rule.id in RULES}
    assert passed == dict.fromkeys(RULES, (1, 1))


def _evaluate(plan: Plan, rule_id: str, resource: PlannedResource, *extra: PlannedResource) -> Any:
    others = tuple(r for r in plan.resources if r.urn != resource.urn)
    context = PolicyContext(
        stack="gcp-prod", facts=plan.facts, resources=(resource, *others, *extra)
    )
    return rule(rule_id).evaluate(resource, context)


def _one_of(plan: Plan, type_: str) -> PlannedResource:
    (found,) = [r for r in plan.resources if r.type == type_]
    return found


@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
@pytest.mark.parametrize(
    ("rule_id", "dropped", "says"),
    [
        ("MLOPS-GCP-SQL-005", "log_lock_waits", "logging flags not set: log_lock_waits=on"),
        ("MLOPS-GCP-SQL-005", "log_min_messages", "logging flags not set: log_min_messages=error"),
        (
            "MLOPS-GCP-SQL-006",
            "cloudsql.enable_pgaudit",
            "pgAudit is off (cloudsql.enable_pgaudit)",
        ),
        ("MLOPS-GCP-SQL-006", "pgaudit.log", "pgAudit records nothing (pgaudit.log)"),
    ],
)
def test_a_dropped_database_flag_is_caught(
    production_plan: Plan, rule_id: str, dropped: str, says: str
) -> None:
    instance = _one_of(production_plan, SQL)
    settings = dict(instance.inputs["settings"])
    settings["databaseFlags"] = [f for f in settings["databaseFlags"] if f["name"] != dropped]
    broken = dataclasses.replace(instance, inputs={**instance.inputs, "settings": settings})
    outcome = _evaluate(production_plan, rule_id, broken)
    assert (outcome.status, outcome.message) == (Status.NON_COMPLIANT, says)


@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
def test_a_lowered_log_level_is_caught(production_plan: Plan) -> None:
    instance = _one_of(production_plan, SQL)
    settings = dict(instance.inputs["settings"])
    settings["databaseFlags"] = [
        {**f, "value": "warning"} if f["name"] == "log_min_error_statement" else f
        for f in settings["databaseFlags"]
    ]
    broken = dataclasses.replace(instance, inputs={**instance.inputs, "settings": settings})
    outcome = _evaluate(production_plan, "MLOPS-GCP-SQL-005", broken)
    assert outcome.message == "logging flags not set: log_min_error_statement=error"


@pytest.mark.filterwarnings("ignore:.*deprecated in favor of.*:DeprecationWarning")
def test_a_missing_deny_rule_or_an_open_allow_is_caught(production_plan: Plan) -> None:
    network = _one_of(production_plan, NETWORK)
    without = tuple(r for r in production_plan.resources if not r.name.endswith("-deny-ingress"))
    plan = dataclasses.replace(production_plan, resources=without)
    outcome = _evaluate(plan, "MLOPS-GCP-VPC-001", network)
    assert outcome.message == "the network has no explicit deny-all ingress firewall rule"
    deny = next(r for r in production_plan.resources if r.name.endswith("-deny-ingress"))
    ssh = dataclasses.replace(
        deny,
        urn=deny.urn.replace("deny-ingress", "ssh"),
        name="ssh",
        inputs={
            "network": deny.inputs["network"],
            "allows": [{"protocol": "tcp", "ports": ["22"]}],
            "sourceRanges": ["0.0.0.0/0"],
        },
    )
    outcome = _evaluate(production_plan, "MLOPS-GCP-VPC-001", network, ssh)
    assert outcome.message == "firewall rules admit the whole internet: ssh"
