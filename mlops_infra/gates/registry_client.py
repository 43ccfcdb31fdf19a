"""Reading candidates and champions from an MLflow model registry, and promoting."""

from __future__ import annotations

import os
from typing import Any

from mlops_infra.gates.decision import ModelVersionInfo

__all__ = ["RegistryClient"]


class RegistryClient:
    """A thin wrapper over ``MlflowClient`` for what gates need.

    Args:
        tracking_url: Tracking server URI.
        username: Basic-auth user, if any.
        password: Basic-auth password, if any.
    """

    def __init__(
        self, tracking_url: str, username: str | None = None, password: str | None = None
    ) -> None:
        """Connects to the registry at ``tracking_url``."""
        if username and password:
            os.environ["MLFLOW_TRACKING_USERNAME"] = username
            os.environ["MLFLOW_TRACKING_PASSWORD"] = password
        from mlflow import MlflowClient  # noqa: PLC0415 - MLflow is heavy; import on use

        self._client: Any = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)

    def latest_version(self, model: str) -> str | None:
        """Returns the newest version of ``model``; ``None`` when it has none or does not exist."""
        try:
            versions = self._client.search_model_versions(
                f"name = '{model}'", order_by=["version_number DESC"], max_results=1
            )
        except Exception as error:
            _reraise_unless_missing(error)
            return None
        return str(versions[0].version) if versions else None

    def alias_version(self, model: str, alias: str) -> str | None:
        """Returns the version ``alias`` points at, or ``None`` when it is not set."""
        try:
            return str(self._client.get_model_version_by_alias(model, alias).version)
        except Exception as error:
            # MLflow answers an alias that is not set with INVALID_PARAMETER_VALUE.
            _reraise_unless_missing(error, also=("INVALID_PARAMETER_VALUE",))
            return None

    def load(self, model: str, version: str) -> ModelVersionInfo | None:
        """Returns a version with its run's metrics, or ``None`` if it does not exist."""
        try:
            found = self._client.get_model_version(model, version)
        except Exception as error:
            _reraise_unless_missing(error)
            return None
        metrics: dict[str, float] = {}
        if found.run_id:
            metrics = {
                k: float(v) for k, v in self._client.get_run(found.run_id).data.metrics.items()
            }
        return ModelVersionInfo(version=str(found.version), metrics=metrics, tags=dict(found.tags))

    def source(self, model: str, version: str) -> str:
        """Returns where the artifacts of a version's model are stored (its download URI)."""
        return str(self._client.get_model_version_download_uri(model, version))

    def promote(self, model: str, alias: str, version: str) -> None:
        """Points ``alias`` at ``version``."""
        self._client.set_registered_model_alias(model, alias, version)

    def tag(self, model: str, version: str, key: str, value: str) -> None:
        """Sets a tag on a model version."""
        self._client.set_model_version_tag(model, version, key, value)


def _reraise_unless_missing(error: Exception, also: tuple[str, ...] = ()) -> None:
    """Lets only "does not exist" through.

    Any other failure (authentication, network) must stop the gate rather than read as
    "no champion" and let a candidate be promoted unchecked.
    """
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    missing = ("RESOURCE_DOES_NOT_EXIST", *also)
    if isinstance(error, MlflowException) and error.error_code in missing:
        return
    raise error
