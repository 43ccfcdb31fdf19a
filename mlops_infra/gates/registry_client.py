"""Reading candidates and champions from an MLflow model registry, and promoting."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any, cast

from mlops_infra.gates.decision import ModelVersionInfo

__all__ = ["RegistryClient", "client_environment"]


def client_environment(client_auth: str | None, tracking_url: str) -> dict[str, str]:
    """The environment MLflow clients need for ``tracking_url``, from a ``client_auth`` hook.

    Args:
        client_auth: ``"package.module:function"`` of a hook taking the tracking URL and
            returning environment variables (e.g. a bearer token, an auth plugin's switch),
            or ``None`` when the server needs nothing beyond basic auth.
        tracking_url: The tracking server's URI.

    Raises:
        ValueError: ``client_auth`` is not ``module:function`` or names nothing callable.
    """
    if not client_auth:
        return {}
    module, _, function = client_auth.partition(":")
    if not module or not function:
        msg = f"client_auth {client_auth!r} is not 'package.module:function'"
        raise ValueError(msg)
    hook = getattr(importlib.import_module(module), function, None)
    if not callable(hook):
        msg = f"client_auth {client_auth!r}: {function!r} is not a function of {module}"
        raise ValueError(msg)
    found = cast(Callable[[str], Mapping[str, str]], hook)(tracking_url)
    return {str(k): str(v) for k, v in found.items()}


class RegistryClient:
    """A thin wrapper over ``MlflowClient`` for what gates need.

    Args:
        tracking_url: Tracking server URI.
        username: Basic-auth user, if any.
        password: Basic-auth password, if any.
        client_auth: Hook giving the environment MLflow needs (see :func:`client_environment`).
    """

    def __init__(
        self,
        tracking_url: str,
        username: str | None = None,
        password: str | None = None,
        client_auth: str | None = None,
    ) -> None:
        """Connects to the registry at ``tracking_url``."""
        if username and password:
            os.environ["MLFLOW_TRACKING_USERNAME"] = username
            os.environ["MLFLOW_TRACKING_PASSWORD"] = password
        # One provider process serves one stack's tracking server, so the process
        # environment (which is how MLflow and its auth plugins read credentials) is ours.
        os.environ.update(client_environment(client_auth, tracking_url))
        from mlflow import MlflowClient  # noqa: PLC0415 - MLflow is heavy; import on use

        self._client: Any = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> RegistryClient:
        """The client for a resource's properties (``tracking_url``, credentials, auth hook)."""
        return cls(
            str(props["tracking_url"]),
            props.get("username"),
            props.get("password"),
            props.get("client_auth"),
        )

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
