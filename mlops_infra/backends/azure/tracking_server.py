"""Azure tracking server: an Azure Machine Learning workspace, whose MLflow endpoint is the URI.

The workspace serves the MLflow tracking and model registry protocol at its
``mlFlowTrackingUri`` (``azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/...``);
clients authenticate with Microsoft Entra ID through the ``azureml-mlflow`` plugin (the
gate, jobs and users need it installed). It is linked to the stack's storage account
(artifacts), Key Vault and container registry, has a system-assigned identity (Azure ML
grants it the roles it needs on those resources) and reaches its system datastores with
that identity, not account keys.

* Public network access off and a private endpoint when the stack has a network; else a
  managed virtual network (``AllowInternetOutbound``) so computes run without public IPs.
* High-business-impact workspace in production.
* Its audit logs go to the stack's Log Analytics workspace (``<name>-workspace-diagnostics``);
  its Application Insights component (``<name>-insights``, workspace-based) keeps its
  telemetry there too.
* With ``network.options.deployer_ip_ranges`` (a private stack deployed from outside its
  network) the workspace accepts requests from those addresses: ``<name>-deployer-access``
  (:mod:`~mlops_infra.backends.azure._deployer_access`).
* With a private registry, Azure ML builds environment images on a cluster:
  ``options.image_build_compute`` names it (or run prebuilt images).
* Stateful: protected in production, retained on delete unless ``purge_on_delete``.
* **Adding or removing a network replaces the workspace** (its managed network isolation
  changes, which Azure does not do in place): a new, empty workspace (MLflow runs and
  registered models stay with the old one). The plan diff shows it; production protection
  refuses it until the workspace is unprotected on purpose.

Spec fields for self-run servers (``size``, ``database_storage_gib``,
``backup_retention_days``, ``mlflow_version``, ``high_availability``) do not apply to
the managed service; ``auth`` cannot be turned off (Entra ID is always required).
"""

from __future__ import annotations

import hashlib
import json

import pulumi
import pulumi_azure_native.machinelearningservices as ml

from mlops_infra.backends.azure._diagnostics import application_insights, send_audit_logs
from mlops_infra.backends.azure._naming import short_name
from mlops_infra.backends.azure._scope import (
    azure_foundation,
    storage_account_id,
    workspace_arm_id,
)
from mlops_infra.backends.azure.mlflow_auth import HOOK
from mlops_infra.backends.azure.options import AzureTrackingOptions
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    TrackingRef,
    TrackingServerArgs,
    TrackingServerBackend,
)
from mlops_infra.specs import TrackingServerSpec

__all__ = ["AzureMlTrackingServer"]


class AzureMlTrackingServer(TrackingServerBackend):
    """An Azure ML workspace: MLflow tracking and model registry with Entra ID auth."""

    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        """Creates the workspace; its reference's ``id`` is the workspace's ARM id."""
        options = ctx.options_as(AzureTrackingOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        group = foundation.resource_group_name
        private = foundation.private_network
        isolation = options.managed_network or ("Disabled" if private else "AllowInternetOutbound")
        public = (
            options.public_network_access
            if options.public_network_access is not None
            else not private
        )
        hbi = (
            options.high_business_impact
            if options.high_business_impact is not None
            else ctx.target.profile.is_production
        )
        ranges = foundation.deployer_ip_ranges if private else ()
        if ranges and options.public_network_access:
            msg = (
                f"{ctx.name}: options.public_network_access opens the workspace to every "
                f"address, network.options.deployer_ip_ranges {list(ranges)} to those only; "
                "choose one"
            )
            raise BackendError(msg)
        account_id = storage_account_id(foundation, ctx.args.store.uri)
        name = options.workspace_name or short_name(ctx.name, 33)
        # Adding or removing a network flips the managed network isolation, which Azure does
        # not change in place (isolation cannot be turned off once on; computes must go
        # before it is turned on): the workspace is replaced, and since its name stays, the
        # old one goes first. Production protection stops `up` before that.
        # https://learn.microsoft.com/en-us/azure/machine-learning/how-to-managed-network
        opts = ctx.opts(
            stateful=True,
            replace_on_changes=["managedNetwork.isolationMode"],
            delete_before_replace=True,
        )
        if not spec.purge_on_delete:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True))
        if ranges:
            # Declared closed; "<name>-deployer-access" opens it to the ranges. A PUT of the
            # workspace sends this input and closes it (never opens it to everyone); the
            # access resource applies the ranges again after it.
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(ignore_changes=["publicNetworkAccess"])
            )
        insights = application_insights(ctx, foundation=foundation)
        insights_id = insights.id if insights is not None else None
        workspace = ml.Workspace(
            ctx.child_name(),
            resource_group_name=group,
            location=foundation.location,
            workspace_name=name,
            friendly_name=ctx.name,
            description=f"MLflow tracking and model registry of stack {ctx.stack_name}",
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            ),
            storage_account=account_id,
            key_vault=foundation.key_vault_id,
            container_registry=foundation.registry_id,
            application_insights=insights_id,
            system_datastores_auth_mode=ml.SystemDatastoresAuthMode.IDENTITY,
            hbi_workspace=hbi,
            public_network_access=(
                ml.PublicNetworkAccessType.ENABLED
                if public
                else ml.PublicNetworkAccessType.DISABLED
            ),
            allow_public_access_when_behind_vnet=False,
            managed_network=ml.ManagedNetworkSettingsArgs(isolation_mode=isolation),
            v1_legacy_mode=False,
            image_build_compute=options.image_build_compute,
            tags=ctx.tags(),
            opts=opts,
        )
        send_audit_logs(ctx, "workspace", foundation=foundation, resource_uri=workspace.id)
        if ranges:
            from mlops_infra.backends.azure._deployer_access import WorkspaceDeployerAccess  # noqa: PLC0415 - only when asked

            # Every declared input: any change of the workspace is a PUT that resets ranges.
            declared: dict[str, pulumi.Input[object]] = {
                "group": group,
                "location": foundation.location,
                "name": name,
                "friendly_name": ctx.name,
                "storage": account_id,
                "vault": foundation.key_vault_id,
                "registry": foundation.registry_id,
                "insights": insights_id,
                "hbi": hbi,
                "isolation": isolation,
                "image_build_compute": options.image_build_compute,
                "tags": ctx.tags(),
            }
            WorkspaceDeployerAccess(
                ctx.child_name("deployer-access"),
                workspace_id=workspace.id,
                ranges=ranges,
                revision=pulumi.Output.from_input(declared).apply(_digest),
                opts=ctx.opts(depends_on=[workspace]),
            )
        # The canonical ARM id, composed from known parts (so it is the same under any
        # mocks), resolved only once the workspace exists (so users wait for it).
        workspace_id = pulumi.Output.all(foundation.subscription_id, group, workspace.id).apply(
            lambda parts: workspace_arm_id(str(parts[0]), str(parts[1]), name)
        )
        if private:
            from mlops_infra.backends.azure._private_link import private_endpoint  # noqa: PLC0415 - network SDK only when asked

            private_endpoint(
                ctx,
                "workspace",
                foundation=foundation,
                target_id=workspace.id,
                group_id="amlworkspace",
                zones=["privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"],
            )
        return TrackingRef(url=workspace.ml_flow_tracking_uri, id=workspace_id, client_auth=HOOK)


def _digest(values: object) -> str:
    """A short digest of JSON-able values."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
