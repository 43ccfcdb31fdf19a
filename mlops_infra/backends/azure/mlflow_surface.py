"""The part of MLflow's REST API an Azure ML workspace's tracking server does not serve.

Azure ML implements MLflow's tracking and model-registry APIs itself ("Azure Machine
Learning doesn't host MLflow server instances, but uses the MLflow APIs directly":
https://learn.microsoft.com/azure/machine-learning/concept-mlflow). Two parts are missing:

* MLflow 3's *logged models* (``/api/2.0/mlflow/logged-models``, which the flavors'
  ``log_model`` calls first), answered with 404 and an empty body
  (https://github.com/Azure/azure-sdk-for-python/issues/44896, with Microsoft's workaround:
  save the model locally and log it as run artifacts, what
  :meth:`mlops_infra.runtime.StepContext.log_model` does);
* registered-model aliases
  (https://learn.microsoft.com/azure/machine-learning/how-to-manage-models-mlflow): the
  gate records the champion as a model-version tag instead
  (:data:`mlops_infra.backends.azure.mlflow_auth.ALIAS_STRATEGY`).

Rehearse puts :func:`azure_ml_unsupported` in front of its MLflow server, so a workload that
would fail on Azure ML fails in the rehearsal too.
"""

from __future__ import annotations

__all__ = ["UNSUPPORTED_ROUTES", "azure_ml_unsupported"]

UNSUPPORTED_ROUTES: tuple[str, ...] = (
    "/api/2.0/mlflow/logged-models",
    "/ajax-api/2.0/mlflow/logged-models",
    "/api/2.0/mlflow/registered-models/alias",
    "/ajax-api/2.0/mlflow/registered-models/alias",
)
"""Route prefixes Azure ML answers with 404 (see the module documentation)."""

_NOT_FOUND = 404


def azure_ml_unsupported(method: str, path: str) -> int | None:
    """404 for a request Azure ML's tracking server does not serve, else ``None``."""
    del method  # every method of these routes is missing
    route = path.split("?", 1)[0]
    if any(route == prefix or route.startswith(f"{prefix}/") for prefix in UNSUPPORTED_ROUTES):
        return _NOT_FOUND
    return None
