"""Diagnostic settings and Application Insights, both kept in the stack's Log Analytics.

The foundation creates one Log Analytics workspace per stack (:func:`log_workspace`); each
component sends the *audit* category group of its resources there
(:func:`send_audit_logs`): who read or changed keys, blobs, images and the ML workspace.
Category groups follow the resource types' categories as Azure adds them.
https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/diagnostic-settings

The ML workspace gets a workspace-based Application Insights component
(:func:`application_insights`), whose telemetry is stored in the same Log Analytics
workspace: https://learn.microsoft.com/en-us/azure/azure-monitor/app/create-workspace-resource
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import applicationinsights, monitor, operationalinsights

from mlops_infra.backends.azure._naming import short_name
from mlops_infra.backends.azure._scope import AnyContext, AzureFoundationRef

__all__ = ["AUDIT", "SETTING_NAME", "application_insights", "log_workspace", "send_audit_logs"]

AUDIT = "audit"
"""The category group sent: audit logs (every resource type here offers it)."""

SETTING_NAME = "mlops-infra-audit"
"""Name of the diagnostic setting on each resource (one per resource and name)."""


def log_workspace(
    ctx: AnyContext,
    *,
    resource_group_name: pulumi.Input[str],
    location: str | None,
    unique: pulumi.Input[str],
    retention_days: int,
) -> operationalinsights.Workspace:
    """Creates ``<name>-logs``, the stack's Log Analytics workspace (pay per GB ingested)."""
    return operationalinsights.Workspace(
        ctx.child_name("logs"),
        resource_group_name=resource_group_name,
        location=location,
        workspace_name=pulumi.Output.from_input(unique).apply(
            lambda u: f"{short_name(f'log-{ctx.name}-{ctx.stack_name}', 54)}-{u}"
        ),
        sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
        retention_in_days=retention_days,
        tags=ctx.tags(),
        opts=ctx.opts(),
    )


def send_audit_logs(
    ctx: AnyContext,
    role: str,
    *,
    foundation: AzureFoundationRef,
    resource_uri: pulumi.Input[str],
) -> monitor.DiagnosticSetting | None:
    """Sends ``resource_uri``'s audit logs to the stack's workspace (``<name>-<role>-diagnostics``).

    Returns ``None`` when the foundation has no log workspace.
    """
    if foundation.log_workspace_id is None:
        return None
    return monitor.DiagnosticSetting(
        ctx.child_name(f"{role}-diagnostics"),
        name=SETTING_NAME,
        resource_uri=resource_uri,
        workspace_id=foundation.log_workspace_id,
        logs=[monitor.DiagnosticsLogSettingsArgs(category_group=AUDIT, enabled=True)],
        opts=ctx.opts(),
    )


def application_insights(
    ctx: AnyContext, *, foundation: AzureFoundationRef
) -> applicationinsights.Component | None:
    """Creates ``<name>-insights``, a workspace-based Application Insights component.

    Its telemetry goes to the stack's Log Analytics workspace (``ingestionMode:
    LogAnalytics``; retention and pricing are that workspace's). Returns ``None`` when the
    foundation has no log workspace.
    """
    if foundation.log_workspace_id is None:
        return None
    return applicationinsights.Component(
        ctx.child_name("insights"),
        resource_group_name=foundation.resource_group_name,
        location=foundation.location,
        resource_name_=pulumi.Output.from_input(foundation.unique).apply(
            lambda u: f"{short_name(f'appi-{ctx.name}-{ctx.stack_name}', 54)}-{u}"
        ),
        kind="web",
        application_type=applicationinsights.ApplicationType.WEB,
        workspace_resource_id=foundation.log_workspace_id,
        ingestion_mode=applicationinsights.IngestionMode.LOG_ANALYTICS,
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
