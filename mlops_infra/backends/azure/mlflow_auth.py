"""MLflow client auth for an Azure ML workspace, from the machine running ``pulumi up``.

The contract's client-auth hook (``TrackingRef.client_auth`` =
``"mlops_infra.backends.azure.mlflow_auth:client_environment"``), run by the gate, the
alias resource and the pipeline run before every MLflow call:

* ``azureml://`` tracking URIs (what the workspace reports as ``mlFlowTrackingUri``) are
  served by the ``azureml-mlflow`` plugin, which signs every request with a Microsoft Entra
  ID bearer token from ``DefaultAzureCredential`` (environment, workload or managed
  identity, Azure CLI). The hook checks the plugin is installed and needs no variable.
* ``https://<region>.api.azureml.ms/mlflow/...`` URIs use MLflow's own REST client: the
  hook returns ``MLFLOW_TRACKING_TOKEN``, an Entra ID token for Azure Resource Manager,
  which the workspace's MLflow endpoint accepts.

Azure ML's MLflow registry supports model-version tags but not registered-model aliases
(https://learn.microsoft.com/en-us/azure/machine-learning/how-to-manage-models-mlflow):
``ALIAS_STRATEGY`` tells the registry client to record the champion as the model-version
tag ``mlops.alias.<alias>``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

__all__ = ["ALIAS_STRATEGY", "HOOK", "client_environment"]

ALIAS_STRATEGY = "version-tag"
"""Aliases are model-version tags on Azure ML (see the module docstring)."""

HOOK = "mlops_infra.backends.azure.mlflow_auth:client_environment"
"""This hook, as the tracking reference names it."""


def client_environment(tracking_url: str) -> Mapping[str, str]:
    """The environment variables an MLflow client needs for ``tracking_url``.

    Raises:
        RuntimeError: an ``azureml://`` URI without the ``azureml-mlflow`` plugin.
    """
    if tracking_url.startswith("azureml://"):
        if importlib.util.find_spec("azureml.mlflow") is None:
            host = tracking_url.split("/mlflow", maxsplit=1)[0]
            msg = (
                f"MLflow needs the azureml-mlflow plugin for {host}/...: "
                "pip install 'mlops-infra[azure]'"
            )
            raise RuntimeError(msg)
        return {}
    if tracking_url.startswith(("https://", "http://")):
        from mlops_infra.backends.azure._api import default_token  # noqa: PLC0415

        return {"MLFLOW_TRACKING_TOKEN": default_token()}
    return {}
