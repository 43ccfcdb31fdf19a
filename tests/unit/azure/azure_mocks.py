"""Mocks for the Azure backend tests: echo inputs the way azure-native outputs look."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.testing import EchoMocks, ProgramRun, Registration, run_stack

REPO = Path(__file__).resolve().parents[3]
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
TENANT = "00000000-0000-0000-0000-0000000000aa"
CLIENT_CONFIG = {
    "azure-native:authorization:getClientConfig": {
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "clientId": "client",
        "objectId": "object",
    }
}
WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-test/providers/"
    "Microsoft.MachineLearningServices/workspaces/mlops-tracking"
)
"""ARM id of the example stacks' workspace (the tracking reference's ``id``)."""
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
_NAME_KEYS = {
    "StorageAccount": "accountName",
    "BlobContainer": "containerName",
    "Vault": "vaultName",
    "Registry": "registryName",
    "OnlineEndpoint": "endpointName",
    "OnlineDeployment": "deploymentName",
    "Job": "id",
}


_ASSETS = {"CodeVersion": "codes", "EnvironmentVersion": "environments"}


class AzureMocks(EchoMocks):
    """EchoMocks plus what azure-native returns: ``name`` from the ``<x>Name`` input, ARM-like
    ids, user-assigned identities as a map, and the workspace's MLflow tracking URI."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        asset = _ASSETS.get(args.typ.rsplit(":", 1)[-1])
        if asset is not None:
            # Code and environment versions: the ARM ids Azure returns.
            resource_id = (
                f"{WORKSPACE_ID}/{asset}/{state.get('name')}/versions/{state.get('version')}"
            )
        kind = args.typ.rsplit(":", 1)[-1]
        key = _NAME_KEYS.get(kind, kind[:1].lower() + kind[1:] + "Name")
        name = state.get(key)
        if args.typ == "azure-native:resources:ResourceGroup":
            name = "rg-test"
        state.setdefault("name", name or args.name)
        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]},
            }
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            state["principalId"] = f"{args.name}-principal"
        if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type")):
            state["identity"] = {**state["identity"], "principalId": f"{args.name}-principal"}
        if args.typ == "azure-native:machinelearningservices:Workspace":
            state["mlFlowTrackingUri"] = (
                f"azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/{SUBSCRIPTION}"
                f"/resourceGroups/rg-test/providers/Microsoft.MachineLearningServices"
                f"/workspaces/{state.get('workspaceName')}"
            )
        return resource_id, state


def gate_outputs(served: str | None = "3", previous: str | None = "2") -> dict[str, Any]:
    """Outputs of a promotion decision that promoted ``served`` over ``previous``."""
    outcome = "promoted" if served and served != previous else "unchanged"
    return {
        "served_version": served,
        "decision": {"outcome": outcome, "served": served, "previous": previous, "reason": "r"},
    }


def azure_run(
    spec: Mapping[str, Any], *, gate: Mapping[str, Any] | None = None, stack: str = "test"
) -> ProgramRun:
    """Synthesizes an azure stack under :class:`AzureMocks`."""
    mocks = AzureMocks(outputs={GATE: dict(gate or gate_outputs())}, calls=CLIENT_CONFIG)
    return run_stack({"cloud": "azure", **spec}, project_dir=REPO, mocks=mocks, stack=stack)


def resource(run: ProgramRun, name: str) -> Registration:
    """The custom (cloud) resource named ``name`` (components share their main child's name)."""
    found = [r for r in run.registrations if r.name == name and r.custom]
    if len(found) != 1:
        msg = f"{len(found)} custom resources named {name!r}"
        raise KeyError(msg)
    return found[0]


def inputs(run: ProgramRun, name: str) -> dict[str, Any]:
    """The plain inputs of the custom resource named ``name``."""
    return resource(run, name).plain_inputs()


def names_of(run: ProgramRun, type_token: str) -> list[str]:
    """Names of the registrations of ``type_token``, sorted."""
    return sorted(r.name for r in run.of_type(type_token))
