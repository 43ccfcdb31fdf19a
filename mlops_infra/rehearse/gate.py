"""The promotion gate as ``pulumi up`` runs it, against the rehearsal's tracking server."""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from typing import Any

from mlops_infra.gates.registry_client import alias_strategy
from mlops_infra.gates.rest_registry import answers_over_rest
from mlops_infra.offline import Registration
from mlops_infra.rehearse.errors import RehearsalError
from mlops_infra.rehearse.version_tag_auth import HOOK as VERSION_TAG_HOOK

__all__ = ["GATE_TYPE", "run_gate"]

GATE_TYPE = "pulumi-python:dynamic/mlops:PromotionDecision"
"""Type token of the gate resource every backend registers."""


@contextmanager
def _environment(values: Mapping[str, str]) -> Generator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_gate(
    registration: Registration, *, tracking_url: str, environment: Mapping[str, str]
) -> dict[str, Any]:
    """Runs the gate's create with its registered inputs; returns its outputs.

    ``tracking_url`` replaces the registered one (the cloud's tracking server is the local
    one here); ``environment`` is set while it runs (object-store emulator variables).

    Raises:
        RehearsalError: the gate failed.
    """
    from mlops_infra.gates.resource import decide  # noqa: PLC0415 - imports MLflow

    props = {k: v for k, v in registration.plain_inputs().items() if not k.startswith("__")}
    # Through the client the cloud's gate uses: MlflowClient where the real server needs
    # an auth plugin (a SageMaker ARN, an identity token), even though the local one does
    # not. A URL only the cloud knows (unknown in the capture: Azure's) means MlflowClient.
    registered = props.get("tracking_url")
    over_rest = isinstance(registered, str) and answers_over_rest(
        registered, props.get("client_auth")
    )
    props["tracking_url"] = tracking_url
    # The local server has no authentication: the cloud's credentials and its client auth
    # hook (SigV4, an ID token, Entra ID) are not rehearsed; the alias strategy its module
    # declares is (a registry without aliases answers them with 404 in the rehearsal too).
    version_tags = alias_strategy(props.get("client_auth")) == "version-tag"
    for key in ("username", "password", "client_auth"):
        props.pop(key, None)
    if version_tags:
        props["client_auth"] = VERSION_TAG_HOOK
    # MLflow warns on every request when run from a process it cannot describe.
    logging.getLogger("mlflow.tracking.request_header.registry").setLevel(logging.ERROR)
    try:
        with _environment(environment):
            return decide(props, over_rest=over_rest)
    except Exception as error:  # the gate's errors are the MLflow client's, of many types
        raise RehearsalError(f"gate {registration.name}", "promotion gate", str(error)) from error
