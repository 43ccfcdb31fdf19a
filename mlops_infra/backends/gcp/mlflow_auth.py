"""MLflow clients on the deployer's machine reaching the Cloud Run tracking server.

The tracking service checks IAM (``roles/run.invoker``) on a Google-signed ID token whose
audience is the service URL, and MLflow's own basic auth on top. MLflow sends
``MLFLOW_TRACKING_TOKEN`` as ``Authorization: Bearer``, but only when no basic-auth user is
set (basic auth wins: ``mlflow.utils.rest_utils.call_endpoint``), so the two cannot share
that header. Cloud Run also accepts the ID token in ``X-Serverless-Authorization`` and then
hands ``Authorization`` to the container untouched
(https://cloud.google.com/run/docs/authenticating/service-to-service). So:

* :func:`cloud_run_client_env` is the ``TrackingRef.client_auth`` hook: it mints an ID
  token for the tracking URL with the deployer's Application Default Credentials and
  returns ``MLFLOW_TRACKING_AUTH=cloud-run-id-token`` plus the token;
* :class:`CloudRunIdTokenAuthProvider` is an MLflow request-auth provider of that name
  (MLflow's documented plugin point, entry point ``mlflow.request_auth_provider``) adding
  ``X-Serverless-Authorization: Bearer <token>`` to every request, next to basic auth.

ID tokens come from ``google.oauth2.id_token.fetch_id_token`` (a service-account key in
``GOOGLE_APPLICATION_CREDENTIALS``, or the metadata server on Google Cloud), else from
impersonation when the ADC are ``gcloud auth application-default login
--impersonate-service-account=...``. Plain user ADC cannot mint a token for an audience.
"""

from __future__ import annotations

import os
from typing import Any, cast
from urllib.parse import urlsplit

__all__ = [
    "AUTH_NAME",
    "CLIENT_AUTH",
    "TOKEN_VARIABLE",
    "CloudRunIdTokenAuthProvider",
    "audience_of",
    "cloud_run_client_env",
    "fetch_id_token",
]

AUTH_NAME = "cloud-run-id-token"
"""Name of the MLflow request-auth provider (``MLFLOW_TRACKING_AUTH``)."""

CLIENT_AUTH = "mlops_infra.backends.gcp.mlflow_auth:cloud_run_client_env"
"""The hook as ``TrackingRef.client_auth`` names it."""

TOKEN_VARIABLE = "MLOPS_CLOUD_RUN_ID_TOKEN"  # noqa: S105 - a variable name
"""Environment variable carrying the ID token from the hook to the auth provider."""

_HEADER = "X-Serverless-Authorization"


def audience_of(tracking_url: str) -> str:
    """Returns the ID token audience of a Cloud Run URL: scheme and host, no path."""
    parts = urlsplit(tracking_url)
    if not parts.scheme or not parts.netloc:
        msg = f"tracking URL {tracking_url!r} is not an http(s) URL of a Cloud Run service"
        raise ValueError(msg)
    return f"{parts.scheme}://{parts.netloc}"


def fetch_id_token(audience: str) -> str:
    """Returns a Google-signed ID token for ``audience`` from the ambient credentials.

    Raises:
        RuntimeError: the credentials cannot mint ID tokens (plain user credentials).
    """
    import google.auth  # noqa: PLC0415 - deployer side only
    from google.auth import exceptions, impersonated_credentials  # noqa: PLC0415
    from google.auth.transport.requests import Request  # noqa: PLC0415
    from google.oauth2 import id_token  # noqa: PLC0415

    try:
        fetch = cast(Any, id_token.fetch_id_token)  # pyright: ignore[reportUnknownMemberType]
        return str(fetch(Request(), audience))
    except exceptions.DefaultCredentialsError:
        pass
    default = cast(Any, google.auth.default)  # pyright: ignore[reportUnknownMemberType]
    credentials, _ = default()
    if isinstance(credentials, impersonated_credentials.Credentials):
        minted: Any = impersonated_credentials.IDTokenCredentials(
            credentials, target_audience=audience, include_email=True
        )
        minted.refresh(Request())
        return str(minted.token)
    msg = (
        f"cannot mint an ID token for {audience} with these Google credentials (user "
        "credentials cannot); run `gcloud auth application-default login "
        "--impersonate-service-account=DEPLOYER_SA` or set GOOGLE_APPLICATION_CREDENTIALS to "
        "a service-account key. The principal needs roles/run.invoker on the tracking service."
    )
    raise RuntimeError(msg)


def _register_provider() -> None:
    """Makes the provider known to MLflow when the package's entry point is not installed."""
    from mlflow.tracking.request_auth.registry import (  # noqa: PLC0415
        _request_auth_provider_registry,  # pyright: ignore[reportPrivateUsage]
    )

    registry: Any = _request_auth_provider_registry
    if not any(p.get_name() == AUTH_NAME for p in registry):
        registry.register(CloudRunIdTokenAuthProvider)


def cloud_run_client_env(tracking_url: str) -> dict[str, str]:
    """The ``client_auth`` hook: the environment MLflow needs for a Cloud Run tracking server."""
    _register_provider()
    return {
        "MLFLOW_TRACKING_AUTH": AUTH_NAME,
        TOKEN_VARIABLE: fetch_id_token(audience_of(tracking_url)),
    }


def _provider_base() -> type:
    from mlflow.tracking.request_auth.abstract_request_auth_provider import (  # noqa: PLC0415
        RequestAuthProvider,
    )

    return RequestAuthProvider


class _ServerlessAuth:
    """``requests`` auth adding the ID token in ``X-Serverless-Authorization``."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: Any) -> Any:
        request.headers[_HEADER] = f"Bearer {self._token}"
        return request


class CloudRunIdTokenAuthProvider(_provider_base()):  # pyright: ignore[reportUntypedBaseClass]
    """MLflow request-auth provider ``cloud-run-id-token``: the hook's ID token on each call."""

    def get_name(self) -> str:
        """The name ``MLFLOW_TRACKING_AUTH`` selects."""
        return AUTH_NAME

    def get_auth(self) -> _ServerlessAuth:
        """The auth for the next request, with the token the hook put in the environment."""
        token = os.environ.get(TOKEN_VARIABLE)
        if not token:
            msg = f"{TOKEN_VARIABLE} is not set; call {CLIENT_AUTH} first"
            raise RuntimeError(msg)
        return _ServerlessAuth(token)
