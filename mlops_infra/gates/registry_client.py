"""Reading candidates and champions from an MLflow model registry, and promoting."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

from mlops_infra.gates.decision import ModelVersionInfo

__all__ = [
    "ALIAS_TAG_PREFIX",
    "AliasStrategy",
    "RegistryClient",
    "alias_strategy",
    "client_environment",
]

AliasStrategy = Literal["alias", "version-tag"]
"""How a registry records which version an alias names: MLflow registered-model aliases,
or, where a registry lacks them (Azure ML), a tag ``mlops.alias.<alias>`` on the one model
version the alias names."""

ALIAS_TAG_PREFIX = "mlops.alias."
"""Model-version tag prefix of the ``version-tag`` alias strategy."""


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


def alias_strategy(client_auth: str | None) -> AliasStrategy:
    """The alias strategy the ``client_auth`` hook's module declares (``ALIAS_STRATEGY``).

    A registry without aliases says so next to its auth hook; default ``"alias"``.
    """
    if not client_auth:
        return "alias"
    module = importlib.import_module(client_auth.partition(":")[0])
    return "version-tag" if getattr(module, "ALIAS_STRATEGY", None) == "version-tag" else "alias"


class RegistryClient:
    """What gates need of an MLflow model registry.

    Asks over MLflow's REST API when the server needs no client-side auth plugin
    (:func:`~mlops_infra.gates.rest_registry.answers_over_rest`: importing MLflow's client
    is most of a no-change ``up``), through ``MlflowClient`` otherwise.

    Args:
        tracking_url: Tracking server URI.
        username: Basic-auth user, if any.
        password: Basic-auth password, if any.
        client_auth: Hook giving the environment MLflow needs (see :func:`client_environment`).
        over_rest: Ask over REST (``True``) or through ``MlflowClient`` (``False``);
            ``None``: over REST when ``tracking_url`` and ``client_auth`` allow it.
    """

    aliases: AliasStrategy = "alias"
    """How this registry records aliases (see :data:`AliasStrategy`)."""

    def __init__(
        self,
        tracking_url: str,
        username: str | None = None,
        password: str | None = None,
        client_auth: str | None = None,
        *,
        over_rest: bool | None = None,
    ) -> None:
        """Connects to the registry at ``tracking_url``."""
        # Imported here: programs and plans import this module for client_environment only.
        from mlops_infra.gates.rest_registry import RestRegistry, answers_over_rest  # noqa: PLC0415

        self.aliases = alias_strategy(client_auth)
        if answers_over_rest(tracking_url, client_auth) if over_rest is None else over_rest:
            self._client: Any = RestRegistry(tracking_url, username, password)
            return
        if username and password:
            os.environ["MLFLOW_TRACKING_USERNAME"] = username
            os.environ["MLFLOW_TRACKING_PASSWORD"] = password
        # One provider process serves one stack's tracking server, so the process
        # environment (which is how MLflow and its auth plugins read credentials) is ours.
        os.environ.update(client_environment(client_auth, tracking_url))
        from mlflow import MlflowClient  # noqa: PLC0415 - MLflow is heavy; import on use

        self._client = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)

    @classmethod
    def of(cls, props: Mapping[str, Any], *, over_rest: bool | None = None) -> RegistryClient:
        """The client for a resource's properties (``tracking_url``, credentials, auth hook)."""
        return cls(
            str(props["tracking_url"]),
            props.get("username"),
            props.get("password"),
            props.get("client_auth"),
            over_rest=over_rest,
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

    def version_of_run(self, model: str, run_id: str) -> str | None:
        """Returns the newest version of ``model`` registered from run ``run_id``, or ``None``."""
        numbers = [int(v.version) for v in self._versions(model) if v.run_id == run_id]
        return str(max(numbers)) if numbers else None

    def _versions(self, model: str) -> list[Any]:
        try:
            return list(self._client.search_model_versions(f"name = '{model}'"))
        except Exception as error:
            _reraise_unless_missing(error)
            return []

    def alias_version(self, model: str, alias: str) -> str | None:
        """Returns the version ``alias`` points at, or ``None`` when it is not set."""
        if self.aliases == "version-tag":
            tagged = [
                int(v.version)
                for v in self._versions(model)
                if _tags(v).get(ALIAS_TAG_PREFIX + alias) == "true"
            ]
            return str(max(tagged)) if tagged else None
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
        if self.aliases == "version-tag":
            key = ALIAS_TAG_PREFIX + alias
            # Tag the new holder first: a failure in between leaves two tagged versions,
            # of which alias_version reads the newest, never none.
            self._client.set_model_version_tag(model, version, key, "true")
            for other in self._versions(model):
                if str(other.version) != version and _tags(other).get(key) is not None:
                    self._client.delete_model_version_tag(model, str(other.version), key)
            return
        self._client.set_registered_model_alias(model, alias, version)

    def tag(self, model: str, version: str, key: str, value: str) -> None:
        """Sets a tag on a model version."""
        self._client.set_model_version_tag(model, version, key, value)


def _tags(version: Any) -> dict[str, str]:
    return cast(dict[str, str], getattr(version, "tags", None) or {})


def _reraise_unless_missing(error: Exception, also: tuple[str, ...] = ()) -> None:
    """Lets only "does not exist" through.

    Any other failure (authentication, network) must stop the gate rather than read as
    "no champion" and let a candidate be promoted unchecked.
    """
    from mlops_infra.gates.rest_registry import RestRegistryError  # noqa: PLC0415

    missing = ("RESOURCE_DOES_NOT_EXIST", *also)
    if isinstance(error, RestRegistryError):
        if error.error_code in missing:
            return
        raise error
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    if isinstance(error, MlflowException) and error.error_code in missing:
        return
    raise error
