"""Azure serving endpoint: a managed online endpoint serving the version its gate allows.

* The component's gate (evaluated at ``pulumi up`` against the workspace's MLflow
  registry) hands over the version to serve (an MLflow model: Azure ML builds its scoring
  environment, no script needed); the component moves the registry alias only once
  ``deployed_version`` confirms it.
* ``OnlineEndpoint`` (version-independent, native): Entra ID token auth by default
  (``options.auth_mode: Key`` for keys), system-assigned identity. Public network access
  off in a stack with a private network unless ``spec.public`` (reach it through the
  workspace's private endpoint); on without one (nothing could reach it otherwise), still
  behind Entra ID; ``options.public_network_access`` decides otherwise. Azure ML
  itself grants that identity *AcrPull* on the workspace registry and *Storage Blob Data
  Reader* on the workspace storage; a second, identical assignment would fail with
  ``RoleAssignmentExists``, so the stack assigns none
  (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-access-resources-from-endpoints-managed-identities).
* ``<name>-deployment`` (:mod:`~mlops_infra.backends.azure.online_release`): the served
  version, deployed blue/green through the REST API at ``up``, on the instance type of the
  serving GPU catalog, ``instance_type`` or the flavor's CPU size, with ``min_replicas``
  instances (the profile's default: 2 in production, else 1) and, when ``max_replicas`` is
  larger, CPU autoscale. **Managed online deployments cannot scale to zero**:
  ``min_replicas: 0`` runs one instance (a warning says so).
* **Pending is a state**: until a version passes the gate, the endpoint exists without
  deployments, ``url`` is ``None`` and the decision says why.
* ``canary_percent``: a newly promoted version first takes that share of traffic, the
  previous one the rest; the next ``up`` gives it all traffic and removes the previous
  deployment (none idles at 0 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_azure_native.machinelearningservices as ml

from mlops_infra.backends.azure._naming import short_name
from mlops_infra.backends.azure._scope import (
    JsonObject,
    azure_foundation,
    workspace_of,
)
from mlops_infra.backends.azure.online_release import AzureMlOnlineRelease
from mlops_infra.backends.azure.options import AzureEndpointOptions
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import ServingEndpointSpec, min_replicas_of

__all__ = ["ManagedOnlineEndpoint", "deployment_body", "model_asset_id"]


def model_asset_id(workspace_id: str, model: str, version: str | None) -> str | None:
    """ARM id of a registered model version in the workspace (``None`` without a version)."""
    return f"{workspace_id}/models/{model}/versions/{version}" if version else None


def deployment_body(
    *,
    location: str | None,
    instance_type: str,
    capacity: int,
    max_concurrent_requests: int,
    request_timeout_ms: int,
    egress: bool,
    description: str,
    tags: Mapping[str, str],
) -> JsonObject:
    """A managed online deployment's REST body, less its model (set per version).

    https://learn.microsoft.com/en-us/rest/api/azureml/online-deployments/create-or-update
    """
    return {
        "location": location,
        "kind": "Managed",
        "sku": {"name": "Default", "capacity": capacity},
        "tags": dict(tags),
        "properties": {
            "endpointComputeType": "Managed",
            "instanceType": instance_type,
            "scaleSettings": {"scaleType": "Default"},
            "requestSettings": {
                "maxConcurrentRequestsPerInstance": max_concurrent_requests,
                "requestTimeout": f"PT{request_timeout_ms / 1000:g}S",
            },
            "egressPublicNetworkAccess": "Enabled" if egress else "Disabled",
            "appInsightsEnabled": False,
            "description": description,
        },
    }


class ManagedOnlineEndpoint(ServingEndpointBackend):
    """An Azure ML managed online endpoint behind the promotion gate."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Declares the endpoint and the release of the version the gate lets through."""
        options = ctx.options_as(AzureEndpointOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        workspace = workspace_of(ctx.args.tracking, foundation, ctx.name)
        version = served.version
        endpoint_name = pulumi.Output.from_input(foundation.unique).apply(
            lambda u: f"{short_name(spec.name, 23)}-{u[:8]}"
        )
        public_access = (
            ml.PublicNetworkAccessType.ENABLED
            if _public(options, spec, private=foundation.private_network)
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
                auth_mode=ml.EndpointAuthMode(options.auth_mode),
                public_network_access=public_access,
                description=f"serves {spec.model} ({spec.alias}) for stack {ctx.stack_name}",
            ),
            tags=tags,
            # Traffic is the release's ("<name>-deployment"): it names deployments that
            # exist only once a version has passed the gate.
            opts=ctx.opts(ignore_changes=["properties.traffic"]),
        )
        offer = node_shape(ctx.target, spec, "serving")
        instance_type = (
            offer.instance_type if offer else spec.instance_type or options.cpu_instance_type
        )
        min_replicas = min_replicas_of(spec, ctx.target.profile)
        if min_replicas < 1:
            pulumi.log.warn(
                f"{ctx.name}: Azure managed online deployments cannot scale to zero; "
                "min_replicas 0 runs 1 instance",
            )
            min_replicas = 1
        max_replicas = max(spec.max_replicas, min_replicas)
        autoscale: dict[str, Any] | None = None
        if max_replicas > min_replicas:
            autoscale = {
                "minimum": min_replicas,
                "maximum": max_replicas,
                "cpu_percent": options.scale_out_cpu_percent,
                "location": foundation.location,
                "tags": tags,
            }
        endpoint_path = pulumi.Output.all(workspace.id, endpoint.name).apply(
            lambda parts: f"{parts[0]}/onlineEndpoints/{parts[1]}"
        )
        release = AzureMlOnlineRelease(
            ctx.child_name("deployment"),
            endpoint_path=endpoint_path,
            version=version,
            model_id=pulumi.Output.all(workspace.id, version).apply(
                lambda parts: model_asset_id(str(parts[0]), spec.model, parts[1])
            ),
            deployment=pulumi.Output.from_input(endpoint.location).apply(
                lambda location: deployment_body(
                    location=location or foundation.location,
                    instance_type=instance_type,
                    capacity=min_replicas,
                    max_concurrent_requests=spec.target_concurrency,
                    request_timeout_ms=options.request_timeout_ms,
                    egress=_egress(options, private=foundation.private_network),
                    description=f"{spec.model} for stack {ctx.stack_name}",
                    tags=tags,
                )
            ),
            canary_percent=spec.canary_percent,
            autoscale=autoscale,
            opts=ctx.opts(depends_on=[endpoint]),
        )
        scoring_uri = endpoint.properties.apply(lambda p: p.scoring_uri if p else None)
        url = pulumi.Output.all(release.deployed_version, scoring_uri).apply(
            lambda parts: parts[1] if parts[0] else None
        )
        return EndpointResult(
            url=url, deployed_version=release.deployed_version, deployment=[release]
        )


def _public(options: AzureEndpointOptions, spec: ServingEndpointSpec, *, private: bool) -> bool:
    """Whether the endpoint takes scoring requests from the internet (see the option).

    Inbound scoring traffic reaches a managed online endpoint publicly or through the
    workspace's private endpoint; without a private network there is no other way in.
    https://learn.microsoft.com/en-us/azure/machine-learning/concept-secure-online-endpoint
    """
    if options.public_network_access is not None:
        return options.public_network_access
    return spec.public or not private


def _egress(options: AzureEndpointOptions, *, private: bool) -> bool:
    if options.egress_public_network_access is not None:
        return options.egress_public_network_access
    return not private
