"""Azure serving endpoint: a managed online endpoint serving the version its gate allows.

* The gate is a :class:`~mlops_infra.gates.PromotionDecision` evaluated at ``pulumi up``
  against the workspace's MLflow registry; its ``served_version`` is what the
  deployment serves (an MLflow model, so no scoring script or environment is needed).
* ``OnlineEndpoint``: Entra ID token auth by default (``options.auth_mode: Key`` for keys),
  public network access off unless ``spec.public`` (reach it through the workspace's
  private endpoint), system-assigned identity granted *AcrPull* on the registry and
  *Storage Blob Data Reader* on the store only.
* ``OnlineDeployment`` ``stable`` on the instance type of the serving GPU catalog,
  ``instance_type`` or the flavor's CPU size, with ``min_replicas`` instances (the
  profile's default: 2 in production, else 1) and, when ``max_replicas`` is larger, an
  Azure Monitor autoscale setting on CPU. **Managed online deployments cannot scale to
  zero**: ``min_replicas: 0`` runs one instance (a warning says so).
* ``canary_percent``: a second deployment ``canary`` serves a newly promoted version with
  that share of traffic while ``stable`` keeps the previous one; at the next ``up`` with
  no new candidate both serve it and ``stable`` takes all traffic.
* Traffic is set by a small ARM deployment after the deployments exist: Azure rejects
  traffic to a deployment that does not exist yet, and the endpoint must exist before
  its deployments, so the endpoint resource itself cannot carry it on the first ``up``.

When nothing passes the gate and nothing was served before, ``pulumi up`` fails at the
deployment with a message saying so (a managed deployment needs a model).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_azure_native.machinelearningservices as ml
from pulumi_azure_native import monitor, resources

from mlops_infra.backends.azure._naming import short_name
from mlops_infra.backends.azure._roles import grant
from mlops_infra.backends.azure._scope import JsonObject, azure_foundation, workspace_of
from mlops_infra.backends.azure.options import AzureEndpointOptions
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import ServingEndpointSpec

__all__ = ["ENDPOINT_API_VERSION", "ManagedOnlineEndpoint", "served_versions", "traffic_split"]

ENDPOINT_API_VERSION = "2025-12-01"
"""API version of the traffic update: the one pulumi-azure-native 3.x uses for endpoints."""

STABLE = "stable"
"""Deployment serving the champion."""

CANARY = "canary"
"""Deployment serving a newly promoted version, when ``canary_percent`` is set."""


def served_versions(
    decision: Mapping[str, object] | None, served: str | None
) -> tuple[str | None, str | None]:
    """Returns the versions the ``stable`` and ``canary`` deployments serve.

    ``stable`` keeps the previous champion while a newly promoted version is in canary.
    Without a decision (the gate was not evaluated: offline runs under mocks) there is no
    version to name: ``(None, None)``.

    Raises:
        BackendError: nothing to serve (no candidate passed and nothing was served before).
    """
    if decision is None and served is None:
        return None, None
    if served is None:
        outcome = (decision or {}).get("outcome", "unknown")
        reason = (decision or {}).get("reason", "")
        msg = (
            f"the gate served no model version (outcome {outcome}: {reason}); a managed "
            "online deployment needs a model: register a version that passes the gate, "
            "or pin model_version"
        )
        raise BackendError(msg)
    previous = (decision or {}).get("previous")
    if decision and decision.get("outcome") == "promoted" and previous and previous != served:
        return str(previous), served
    return served, served


def traffic_split(
    canary_percent: int | None, stable: str | None, canary: str | None
) -> dict[str, int]:
    """Share of traffic per deployment (percent, summing to 100)."""
    if canary_percent is None:
        return {STABLE: 100}
    if stable == canary:
        return {STABLE: 100, CANARY: 0}
    return {STABLE: 100 - canary_percent, CANARY: canary_percent}


class ManagedOnlineEndpoint(ServingEndpointBackend):
    """An Azure ML managed online endpoint behind the promotion gate."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Declares the gate, the endpoint, its deployments, autoscale and traffic."""
        options = ctx.options_as(AzureEndpointOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        workspace = workspace_of(foundation, ctx.name)
        private = foundation.private_network
        endpoint_name = pulumi.Output.from_input(foundation.unique).apply(
            lambda u: f"{short_name(spec.name, 23)}-{u[:8]}"
        )
        auth_mode = ml.EndpointAuthMode(options.auth_mode)
        public_access = (
            ml.PublicNetworkAccessType.ENABLED
            if spec.public
            else ml.PublicNetworkAccessType.DISABLED
        )
        tags = ctx.tags({"mlops-model": spec.model})
        endpoint = ml.OnlineEndpoint(
            ctx.child_name(),
            resource_group_name=workspace.resource_group_name,
            workspace_name=workspace.name,
            endpoint_name=endpoint_name,
            location=foundation.location,
            kind="Managed",
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED
            ),
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=auth_mode,
                public_network_access=public_access,
                description=f"serves {spec.model} ({spec.alias}) for stack {ctx.stack_name}",
            ),
            tags=tags,
            # Traffic is managed by the "<name>-traffic" deployment below.
            opts=ctx.opts(depends_on=[workspace.resource], ignore_changes=["properties.traffic"]),
        )
        principal = endpoint.identity.apply(lambda i: i.principal_id if i else "")
        grants: list[pulumi.Resource] = [
            grant(
                ctx,
                "store-read",
                role="Storage Blob Data Reader",
                principal_id=principal,
                scope=workspace.storage_account_id,
                subscription_id=foundation.subscription_id,
            )
        ]
        if foundation.registry_id is not None:
            grants.append(
                grant(
                    ctx,
                    "registry-pull",
                    role="AcrPull",
                    principal_id=principal,
                    scope=pulumi.Output.from_input(foundation.registry_id).apply(lambda i: i or ""),
                    subscription_id=foundation.subscription_id,
                )
            )

        offer = node_shape(ctx.target, spec, "serving")
        instance_type = (
            offer.instance_type if offer else spec.instance_type or options.cpu_instance_type
        )
        min_replicas = (
            spec.min_replicas if spec.min_replicas is not None else ctx.target.profile.min_replicas
        )
        if min_replicas < 1:
            pulumi.log.warn(
                f"{ctx.name}: Azure managed online deployments cannot scale to zero; "
                "min_replicas 0 runs 1 instance",
            )
            min_replicas = 1
        max_replicas = max(spec.max_replicas, min_replicas)
        versions = pulumi.Output.all(served.decision, served.version).apply(
            lambda parts: served_versions(parts[0], parts[1])
        )
        slots = {STABLE: versions.apply(lambda v: v[0])}
        if spec.canary_percent is not None:
            slots[CANARY] = versions.apply(lambda v: v[1])
        deployments: list[ml.OnlineDeployment] = []
        for slot, version in slots.items():
            model_id = pulumi.Output.all(workspace.id, version).apply(
                lambda parts: (
                    f"{parts[0]}/models/{spec.model}/versions/{parts[1]}" if parts[1] else None
                )
            )
            # The canary runs one instance; the stable deployment carries the fleet.
            capacity = min_replicas if slot == STABLE else 1
            autoscaled = slot == STABLE and max_replicas > min_replicas
            deployment = ml.OnlineDeployment(
                ctx.child_name(slot),
                resource_group_name=workspace.resource_group_name,
                workspace_name=workspace.name,
                endpoint_name=endpoint_name,
                deployment_name=slot,
                location=foundation.location,
                kind="Managed",
                sku=ml.SkuArgs(name="Default", capacity=capacity),
                properties=ml.ManagedOnlineDeploymentArgs(
                    endpoint_compute_type="Managed",
                    model=model_id,
                    instance_type=instance_type,
                    scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                    request_settings=ml.OnlineRequestSettingsArgs(
                        max_concurrent_requests_per_instance=spec.target_concurrency,
                        request_timeout=f"PT{options.request_timeout_ms / 1000:g}S",
                    ),
                    egress_public_network_access=ml.EgressPublicNetworkAccessType.ENABLED
                    if _egress(options, private=private)
                    else ml.EgressPublicNetworkAccessType.DISABLED,
                    app_insights_enabled=False,
                    description=f"{spec.model} for {slot} traffic",
                ),
                tags=tags,
                opts=ctx.opts(
                    depends_on=[endpoint, *grants],
                    # Autoscale owns the instance count of an autoscaled deployment.
                    ignore_changes=["sku.capacity"] if autoscaled else None,
                ),
            )
            deployments.append(deployment)
            if autoscaled:
                _autoscale(
                    ctx,
                    deployment,
                    options,
                    resource_group_name=workspace.resource_group_name,
                    location=foundation.location,
                    minimum=min_replicas,
                    maximum=max_replicas,
                )

        traffic = versions.apply(lambda v: traffic_split(spec.canary_percent, v[0], v[1]))
        routed = resources.Deployment(
            ctx.child_name("traffic"),
            resource_group_name=workspace.resource_group_name,
            properties=resources.DeploymentPropertiesArgs(
                mode=resources.DeploymentMode.INCREMENTAL,
                template=pulumi.Output.all(endpoint_name, endpoint.location, traffic).apply(
                    lambda parts: _traffic_template(
                        workspace.name,
                        parts[0],
                        parts[1],
                        parts[2],
                        auth_mode=options.auth_mode,
                        public_network_access=public_access.value,
                        tags=tags,
                    )
                ),
            ),
            tags=tags,
            opts=ctx.opts(depends_on=deployments),
        )
        url = endpoint.properties.apply(lambda p: p.scoring_uri if p else None)
        return EndpointResult(url=url, deployed_version=served.version, deployment=[routed])


def _egress(options: AzureEndpointOptions, *, private: bool) -> bool:
    if options.egress_public_network_access is not None:
        return options.egress_public_network_access
    return not private


def _autoscale(
    ctx: BuildContext[ServingEndpointArgs],
    deployment: ml.OnlineDeployment,
    options: AzureEndpointOptions,
    *,
    resource_group_name: pulumi.Input[str],
    location: str | None,
    minimum: int,
    maximum: int,
) -> monitor.AutoscaleSetting:
    """CPU-based autoscale of ``deployment`` between ``minimum`` and ``maximum`` instances."""

    def rule(direction: monitor.ScaleDirection, threshold: float) -> monitor.ScaleRuleArgs:
        increase = direction == monitor.ScaleDirection.INCREASE
        return monitor.ScaleRuleArgs(
            metric_trigger=monitor.MetricTriggerArgs(
                metric_name="CpuUtilizationPercentage",
                metric_resource_uri=deployment.id,
                operator=monitor.ComparisonOperationType.GREATER_THAN
                if increase
                else monitor.ComparisonOperationType.LESS_THAN,
                statistic=monitor.MetricStatisticType.AVERAGE,
                threshold=threshold,
                time_aggregation=monitor.TimeAggregationType.AVERAGE,
                time_grain="PT1M",
                time_window="PT5M",
            ),
            scale_action=monitor.ScaleActionArgs(
                cooldown="PT5M",
                direction=direction,
                type=monitor.ScaleType.CHANGE_COUNT,
                value="1",
            ),
        )

    threshold = float(options.scale_out_cpu_percent)
    return monitor.AutoscaleSetting(
        ctx.child_name("autoscale"),
        resource_group_name=resource_group_name,
        location=location,
        enabled=True,
        target_resource_uri=deployment.id,
        profiles=[
            monitor.AutoscaleProfileArgs(
                name="cpu",
                capacity=monitor.ScaleCapacityArgs(
                    minimum=str(minimum), maximum=str(maximum), default=str(minimum)
                ),
                rules=[
                    rule(monitor.ScaleDirection.INCREASE, threshold),
                    rule(monitor.ScaleDirection.DECREASE, threshold / 2),
                ],
            )
        ],
        tags=ctx.tags(),
        opts=ctx.opts(),
    )


def _traffic_template(
    workspace: str,
    endpoint: str,
    location: str | None,
    traffic: Mapping[str, int],
    *,
    auth_mode: str,
    public_network_access: str,
    tags: Mapping[str, str],
) -> JsonObject:
    """An ARM template that PUTs the endpoint again, now with its traffic split."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
                "apiVersion": ENDPOINT_API_VERSION,
                "name": f"{workspace}/{endpoint}",
                "location": location,
                "kind": "Managed",
                "identity": {"type": "SystemAssigned"},
                "tags": dict(tags),
                "properties": {
                    "authMode": auth_mode,
                    "publicNetworkAccess": public_network_access,
                    "traffic": dict(traffic),
                },
            }
        ],
    }
