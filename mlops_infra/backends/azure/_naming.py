"""Azure names, durations and identifiers: pure functions (no SDK), table-tested.

Azure name rules differ per resource type (storage accounts: 3-24 lowercase letters
and digits, globally unique; Key Vaults: 3-24, letters, digits and ``-``; AML computes:
2-16 characters ...). Globally unique names get a suffix hashed from the subscription
and resource group, the way Bicep's ``uniqueString(resourceGroup().id)`` does: stable
for a stack, different across subscriptions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "BlobLocation",
    "WorkspaceLocation",
    "compact",
    "iso_duration",
    "parse_blob_uri",
    "parse_workspace_uri",
    "short_name",
    "unique_suffix",
]

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_WORKSPACE_RE = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<workspace>[^/?#]+)",
    re.IGNORECASE,
)
_BLOB_RE = re.compile(r"^https://(?P<account>[^./]+)\.blob\.[^/]+/(?P<container>[^/?#]+)")


def unique_suffix(*parts: str | None, length: int = 8) -> str:
    """Returns ``length`` hex digits hashed from ``parts`` (``None`` hashes as empty)."""
    text = "/".join(part or "" for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def compact(prefix: str, base: str, suffix: str, max_length: int) -> str:
    """Returns ``prefix + base + suffix`` in lowercase letters and digits, ``base`` cut to fit.

    For names that allow no separators (storage accounts, container registries).
    """
    room = max_length - len(prefix) - len(suffix)
    if room < 0:
        msg = f"prefix {prefix!r} and suffix {suffix!r} leave no room in {max_length} characters"
        raise ValueError(msg)
    return prefix + _NOT_ALNUM.sub("", base.lower())[:room] + suffix


def short_name(name: str, max_length: int) -> str:
    """Returns ``name`` if it fits, else its head and a hash of the whole (stable, unique).

    Keeps ``-`` separators; never ends with ``-``.
    """
    if len(name) <= max_length:
        return name
    digest = unique_suffix(name, length=4)
    head = name[: max_length - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def iso_duration(seconds: int) -> str:
    """Returns ``seconds`` as an ISO 8601 duration (``PT1H30M``), what Azure ML expects."""
    if seconds < 0:
        msg = f"a duration cannot be negative; got {seconds}"
        raise ValueError(msg)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{secs}S" if secs or not (days or hours or minutes) else ""
    return text + ("T" + clock if clock else "")


@dataclass(frozen=True)
class WorkspaceLocation:
    """Where an Azure ML workspace is, read from its MLflow tracking URI or ARM id.

    Attributes:
        subscription_id: Subscription of the workspace.
        resource_group_name: Its resource group.
        workspace_name: Its name.
    """

    subscription_id: str
    resource_group_name: str
    workspace_name: str

    @property
    def workspace_id(self) -> str:
        """The workspace's ARM id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group_name}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace_name}"
        )


def parse_workspace_uri(uri: str | None) -> WorkspaceLocation | None:
    """Reads the workspace from an ``azureml://<region>.api.azureml.ms/mlflow/v1.0/...`` URI.

    Azure ML's MLflow tracking URI embeds the workspace's ARM path (that is how
    ``azureml-mlflow`` finds it); an ARM id works too. Returns ``None`` for anything else.
    """
    match = _WORKSPACE_RE.search(uri or "")
    if match is None:
        return None
    return WorkspaceLocation(match["subscription"], match["group"], match["workspace"])


@dataclass(frozen=True)
class BlobLocation:
    """A blob container, read from its ``https://<account>.blob.core.windows.net/<c>`` URI.

    Attributes:
        account_name: Storage account.
        container_name: Container.
    """

    account_name: str
    container_name: str


def parse_blob_uri(uri: str | None) -> BlobLocation | None:
    """Reads account and container from a blob URI; ``None`` when it is not one."""
    match = _BLOB_RE.match(uri or "")
    if match is None:
        return None
    return BlobLocation(match["account"], match["container"])
