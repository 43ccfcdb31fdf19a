"""The local backend: servers listen on loopback only; data stays out of shared temp folders."""

from __future__ import annotations

import ipaddress

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108 - the folders we reject


def _loopback(host: object) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


def _listens_on_loopback(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    host = resource.inputs.get("host")
    if host is None:
        return not_applicable("no listen address")
    if not _loopback(host):
        return violation(f"listens on {host}; a local server must listen on loopback only")
    return compliant()


def _private_folder(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    paths = [
        value for key in ("path", "data_dir") if isinstance(value := resource.inputs.get(key), str)
    ]
    if not paths:
        return not_applicable("no data folder")
    shared = [p for p in paths if any(p == t or p.startswith(t + "/") for t in _SHARED_TEMP)]
    if shared:
        return violation(
            f"keeps data in a shared temporary folder ({', '.join(shared)}), readable by other "
            "users and wiped on reboot; use a folder under the project"
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-LOCAL-001",
        title="The local MLflow server listens on loopback only",
        pack="local",
        types=("pulumi-python:dynamic/mlops:LocalMlflowServer",),
        check=_listens_on_loopback,
        severity="critical",
        remediation="leave options.host at 127.0.0.1",
    ),
    Rule(
        id="MLOPS-LOCAL-002",
        title="Local model servers listen on loopback only",
        pack="local",
        types=("pulumi-python:dynamic/mlops:LocalModelServer",),
        check=_listens_on_loopback,
        severity="high",
        remediation="leave options.host at 127.0.0.1",
    ),
    Rule(
        id="MLOPS-LOCAL-003",
        title="Local stores and tracking data live outside shared temporary folders",
        pack="local",
        types=(
            "pulumi-python:dynamic/mlops:LocalStoreDirectory",
            "pulumi-python:dynamic/mlops:LocalMlflowServer",
        ),
        check=_private_folder,
        severity="medium",
        remediation="keep the default .mlops/<stack>/ folders or another private path",
    ),
)
