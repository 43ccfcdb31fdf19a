"""The gate's client auth in a rehearsal of a registry without aliases (Azure ML).

The rehearsal's MLflow server has no authentication, so the cloud's hook (which fetches an
Entra ID token) is not run; its registry's alias strategy still holds: this module declares
the same ``ALIAS_STRATEGY`` and asks for no credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ALIAS_STRATEGY", "HOOK", "client_environment"]

ALIAS_STRATEGY = "version-tag"
"""Aliases are model-version tags (:func:`mlops_infra.gates.registry_client.alias_strategy`)."""

HOOK = "mlops_infra.rehearse.version_tag_auth:client_environment"
"""This hook, as a gate's ``client_auth`` names it."""


def client_environment(tracking_url: str) -> Mapping[str, str]:
    """No variables: the rehearsal's server needs none."""
    del tracking_url
    return {}
