"""The deployer's way into a private stack: its egress addresses, allowed by store and workspace.

A private stack's ``pulumi up`` uploads code packages to the storage account (Blob data
plane) and its gate and alias call the workspace's MLflow API, both closed to the internet.
With ``network.options.deployer_ip_ranges`` those two services also accept the listed public
addresses (a hosted runner with fixed egress IPs), everything else staying private:

* the storage account: public network access *enabled from selected networks*: default
  action ``Deny`` with one IP rule per range (:func:`storage_ip_rules`);
  https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security
* the ML workspace: public access *enabled from selected IP addresses* (``networkAcls``),
  which Azure lets set only once the workspace exists and which pulumi-azure-native's
  workspace (API 2025-12-01, where ``networkAcls`` was removed from the contract) cannot
  express: ``<tracking>-deployer-access`` (:class:`WorkspaceDeployerAccess`) ``PATCH``es it
  through ARM at the API version that declares it (:data:`NETWORK_ACLS_API_VERSION`), as
  ``azure-ai-ml``'s ``NetworkAcls`` does;
  https://learn.microsoft.com/en-us/azure/machine-learning/how-to-configure-private-link#enable-public-access-only-from-internet-ip-ranges

The workspace itself is declared with public access ``Disabled`` and that input ignored once
ranges are given: a ``PUT`` of the workspace (any change of it) closes it again, and resets
the ranges, rather than open it to everyone; the access resource follows every change of
the workspace's declared inputs (``revision``) and applies the ranges again in the same
``up``. Removing the ranges (or the resource) closes the workspace.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.dynamic_provider import EngineBoundProvider

if TYPE_CHECKING:
    from mlops_infra.backends.azure._api import ArmClient

__all__ = [
    "NETWORK_ACLS_API_VERSION",
    "WorkspaceDeployerAccess",
    "storage_ip_rules",
    "workspace_access_body",
]

NETWORK_ACLS_API_VERSION = "2024-10-01-preview"
"""The Azure ML REST API version whose workspace contract declares ``networkAcls``."""

_TERMINAL = frozenset({"Succeeded", "Failed", "Canceled"})
_POLL_S = 5.0
_POLL_LIMIT_S = 900.0


def storage_ip_rules(ranges: Sequence[str]) -> list[str]:
    """The storage firewall's IP rules for ``ranges``: ``/31`` and ``/32`` as single addresses.

    Azure Storage refuses ``/31`` and ``/32`` prefixes (they are given as addresses).
    https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security
    """
    rules: list[str] = []
    for text in ranges:
        network = ipaddress.ip_network(text, strict=True)
        if network.prefixlen >= network.max_prefixlen - 1:
            rules.extend(str(address) for address in network)
        else:
            rules.append(str(network))
    return rules


def workspace_access_body(ranges: Sequence[str]) -> dict[str, Any]:
    """The workspace ``PATCH`` body: public access from ``ranges`` only, or none (empty)."""
    if not ranges:
        return {
            "properties": {
                "publicNetworkAccess": "Disabled",
                "networkAcls": {"defaultAction": "Deny", "ipRules": []},
            }
        }
    return {
        "properties": {
            "publicNetworkAccess": "Enabled",
            "networkAcls": {
                "defaultAction": "Deny",
                "ipRules": [{"value": text} for text in ranges],
            },
        }
    }


def _allowed(workspace: dict[str, Any]) -> list[str]:
    """The ranges a workspace accepts from the internet (none when not *selected IPs*)."""
    props: dict[str, Any] = workspace.get("properties") or {}
    acls: dict[str, Any] = props.get("networkAcls") or {}
    if props.get("publicNetworkAccess") != "Enabled" or acls.get("defaultAction") != "Deny":
        return []
    rules: list[dict[str, Any]] = acls.get("ipRules") or []
    return [str(rule.get("value")) for rule in rules]


class _AccessProvider(EngineBoundProvider):
    """Applies the ranges on create and update, reads them back, closes the workspace on delete."""

    # Replaced in tests (the contract fake's clock); ``time`` otherwise.
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def _client(self, props: dict[str, Any]) -> ArmClient:
        from mlops_infra.backends.azure._api import ArmClient  # noqa: PLC0415 - provider side

        return ArmClient(str(props["arm_endpoint"]), sleep=self.sleep)

    def _apply(self, props: dict[str, Any], ranges: list[str]) -> None:
        from mlops_infra.backends.azure._api import progress  # noqa: PLC0415 - provider side

        client = self._client(props)
        path = str(props["workspace_id"])
        what = f"from {', '.join(ranges)}" if ranges else "through its private endpoint only"
        progress(f"workspace {path.rsplit('/', 1)[-1]}: accepting requests {what}")
        client.request("PATCH", path, NETWORK_ACLS_API_VERSION, workspace_access_body(ranges))
        deadline = self.clock() + _POLL_LIMIT_S
        while True:
            workspace: dict[str, Any] = client.get(path, NETWORK_ACLS_API_VERSION) or {}
            current: dict[str, Any] = workspace.get("properties") or {}
            state = str(current.get("provisioningState", "Succeeded"))
            if state in _TERMINAL:
                break
            if self.clock() > deadline:
                msg = f"{path}: still {state} {_POLL_LIMIT_S:g} s after its network ACL update"
                raise RuntimeError(msg)
            self.sleep(_POLL_S)
        if state != "Succeeded" or sorted(_allowed(workspace)) != sorted(ranges):
            msg = (
                f"{path}: Azure answered {state} with public access from "
                f"{_allowed(workspace) or 'nowhere'}, not from {ranges or 'nowhere'}"
            )
            raise RuntimeError(msg)

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._apply(props, list(props["ranges"]))
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        return CreateResult(id_=f"{props['workspace_id']}/networkAcls", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("workspace_id", "ranges", "revision", "arm_endpoint")
        changes = any(olds.get(k) != news.get(k) for k in keys)
        return DiffResult(changes=changes, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        del olds
        self._apply(news, list(news["ranges"]))
        return UpdateResult(outs={k: v for k, v in news.items() if not k.startswith("__")})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        workspace = self._client(props).get(str(props["workspace_id"]), NETWORK_ACLS_API_VERSION)
        if workspace is None:
            return ReadResult(None, {})
        # What Azure enforces now: a workspace PUT elsewhere that reset the ranges shows as
        # a change, applied again on the next `up`.
        return ReadResult(id_, {**props, "ranges": _allowed(workspace)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from mlops_infra.backends.azure._api import ArmError  # noqa: PLC0415 - provider side

        try:
            self._apply(props, [])
        except ArmError as error:
            if error.status != 404:  # the workspace is gone, and its ranges with it
                raise


class WorkspaceDeployerAccess(Resource, module="mlops", name="AzureWorkspaceDeployerAccess"):
    """The workspace's public access from the deployer's ranges only (see module)."""

    workspace_id: pulumi.Output[str]
    """ARM id of the workspace."""

    ranges: pulumi.Output[list[str]]
    """Public IPv4 ranges the workspace accepts requests from."""

    def __init__(
        self,
        name: str,
        *,
        workspace_id: pulumi.Input[str],
        ranges: Sequence[str],
        revision: pulumi.Input[str],
        arm_endpoint: str = "https://management.azure.com",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares ``name``: the workspace accepts ``ranges`` (again when ``revision`` changes).

        ``revision`` is a digest of the workspace's declared inputs: a workspace update
        resets its ranges, so the ranges are applied again after it.
        """
        super().__init__(
            _AccessProvider(),
            name,
            {
                "workspace_id": workspace_id,
                "ranges": list(ranges),
                "revision": revision,
                "arm_endpoint": arm_endpoint,
            },
            opts,
        )
