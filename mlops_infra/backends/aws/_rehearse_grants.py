"""Whether the role the stack gives a step grants every MLflow call the step made.

Rehearse records each step's MLflow calls (:mod:`mlops_infra.rehearse.recorder`); this
module finds the step's role among the captured registrations (its ``RoleArn`` as the plan
mocks answer it), reads the role's inline policies as the program generated them, and
checks that each call's action (:func:`~mlops_infra.backends.aws.mlflow_auth.mlflow_actions`)
is allowed on the tracking server's ARN. IAM evaluation is reduced to what the backend
generates: ``Allow`` statements with literal actions and resources (``policy_json``
refuses wildcards), no ``Deny``, no conditions on MLflow statements.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable
from typing import Any

from mlops_infra.backends.aws.mlflow_auth import mlflow_actions
from mlops_infra.mlflow_rest import ARTIFACT_CALLS
from mlops_infra.offline import EchoMocks
from mlops_infra.policies._helpers import as_strings
from mlops_infra.rehearse.capture import Deployment
from mlops_infra.rehearse.errors import RehearsalError

__all__ = ["check_mlflow_grants", "granted_actions"]

_ROLE = "aws:iam/role:Role"
_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def granted_actions(deployment: Deployment, role_arn: str, resource: str) -> tuple[str, set[str]]:
    """The role's name and the actions its inline policies allow on ``resource``.

    Raises:
        RehearsalError: no captured role has ``role_arn``.
    """
    for role in deployment.of_type(_ROLE):
        if EchoMocks.arn(role.type, role.name) != role_arn:
            continue
        role_id = EchoMocks.resource_id(role.name)
        allowed: set[str] = set()
        for policy in deployment.of_type(_ROLE_POLICY):
            inputs = policy.plain_inputs()
            if inputs.get("role") != role_id:
                continue
            document: dict[str, Any] = json.loads(str(inputs["policy"]))
            for raw in typing.cast(list[dict[str, Any]], document.get("Statement") or []):
                if raw.get("Effect") == "Allow" and resource in as_strings(raw.get("Resource")):
                    allowed.update(as_strings(raw.get("Action")))
        return role.name, allowed
    raise RehearsalError("rehearse", "IAM", f"no role of the stack has the ARN {role_arn!r}")


def check_mlflow_grants(
    deployment: Deployment,
    *,
    step: str,
    role_arn: str,
    tracking_url: str,
    calls: Iterable[str],
    revoked: str | None = None,
) -> None:
    """Fails when ``calls`` (on ``tracking_url``) need an action the step's role lacks.

    ``revoked``: an action treated as not granted (fault injection).

    Raises:
        RehearsalError: names the step, the role, each call and the action it needs.
    """
    if not tracking_url.startswith("arn:"):
        return  # a self-hosted server: basic auth, no IAM
    role, allowed = granted_actions(deployment, role_arn, tracking_url)
    allowed.discard(revoked or "")
    missing = [
        f"{call} needs {action}"
        for call in sorted(set(calls) - ARTIFACT_CALLS)
        for action in mlflow_actions(tracking_url, [call])
        if action not in allowed
    ]
    if missing:
        msg = (
            f"the step's MLflow calls are not all granted to role {role} on "
            f"{tracking_url}: " + "; ".join(missing)
        )
        raise RehearsalError(step, "IAM (SageMaker MLflow)", msg)
