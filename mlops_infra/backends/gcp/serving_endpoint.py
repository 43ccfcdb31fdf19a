"""Online inference on Cloud Run: the MLflow model server for the version the gate allows.

* The component's gate (the same on every cloud) is evaluated at ``pulumi up``; the
  version it lets through (``served``) and its ``gs://`` source configure the service;
  the registry alias follows ``deployed_version``, what Cloud Run confirms serving.
* Nothing has passed yet (a fresh stack): no service is deployed, ``url`` is ``None`` and
  the endpoint is pending with the gate's reasons. The service itself is a dynamic
  resource (:class:`~._deployment.CloudRunDeployment`) calling the Cloud Run Admin API
  at ``up``, because a native service would need a model (and a runnable revision) from
  its first ``up``. Its ``deployed_version`` is what Cloud Run confirms serving.
* Ingress internal only unless ``public``; never an ``allUsers`` invoker: callers need
  ``roles/run.invoker`` on this service, also when it is public.
* The image: unless ``options.image`` names one, built by the stack per served version
  (:mod:`~mlops_infra.backends.gcp.serving_image`: the model and its dependencies inside,
  nothing downloaded when an instance starts).
* Its own service account reads objects of the artifact bucket and nothing else.
* Scaling from ``min_replicas`` (0 allowed: scale to zero) to ``max_replicas``,
  ``target_concurrency`` requests per instance; one NVIDIA L4 per instance when the
  endpoint asks for ``gpu: l4``.
* ``canary_percent``: a newly served version gets that share of the traffic and the
  revision that served the previous version keeps the rest, until the next version or
  until ``canary_percent`` is removed (then the latest revision gets everything).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from mlops_infra.backends.gcp._cloudrun import (
    MAX_SERVICE_NAME,
    STARTUP_PROBE_BUDGET_S,
    STARTUP_PROBE_PERIOD_S,
)
from mlops_infra.backends.gcp._deployment import CloudRunDeployment
from mlops_infra.backends.gcp._iam import (
    MLFLOW_ROOT,
    OBJECT_VIEWER,
    bucket_member,
    object_prefix,
    service_account,
)
from mlops_infra.backends.gcp._naming import gcp_labels, physical_name
from mlops_infra.backends.gcp._scope import current_project_id, region_of
from mlops_infra.backends.gcp.options import CloudRunServingOptions
from mlops_infra.backends.gcp.serving_image import MODEL_DIR, serving_image
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.resources.artifact_store import bucket_of
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import ServingEndpointSpec, min_replicas_of

__all__ = ["SERVE_SCRIPT", "CloudRunServingEndpoint", "served_prefix"]

_PORT = 8080
SERVE_SCRIPT = (
    'exec mlflow models serve -m "$MLFLOW_MODEL_URI" --env-manager local '
    '--host 0.0.0.0 --port "$PORT"\n'
)
"""Container command: serve the gated model (baked into the stack-built image at
``/opt/ml/model``, or read from the store by your own image) with the image's environment."""


def served_prefix(store_uri: str, source: object) -> str:
    """Returns the object prefix of the served model's folder.

    ``source`` is the served version's ``gs://`` URI in the store's bucket; before a version
    is served, the prefix is MLflow's artifact root.
    """
    bucket = bucket_of(store_uri)
    if isinstance(source, str) and source.startswith(f"gs://{bucket}/"):
        return object_prefix(source)
    return object_prefix(store_uri, MLFLOW_ROOT)


class CloudRunServingEndpoint(ServingEndpointBackend):
    """A Cloud Run service serving what the endpoint's promotion gate allows."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Declares the serving identity and the deployment of ``served.version``."""
        if spec.instance_type is not None:
            msg = (
                f"{ctx.name}: Cloud Run has no instance types (got {spec.instance_type!r}); "
                "size instances with options.cpu and options.memory, or ask for gpu: l4"
            )
            raise BackendError(msg)
        options = ctx.options_as(CloudRunServingOptions)
        account = service_account(ctx, "server", f"serves model {spec.model}")
        # A stack-built image carries its model: the identity reads nothing of the bucket.
        # Your own image reads the served model's folder only (issue 14.9).
        readers: list[pulumi.Resource] = []
        if options.image:
            prefixes = pulumi.Output.all(ctx.args.store.uri, served.source).apply(
                lambda values: [served_prefix(str(values[0]), values[1])]
            )
            readers.append(
                bucket_member(
                    ctx, "models", ctx.args.store.uri, account, OBJECT_VIEWER, prefixes=prefixes
                )
            )
        service = physical_name(ctx.name, max_length=MAX_SERVICE_NAME, salt=ctx.stack_name)
        built = (
            None
            if options.image
            else serving_image(ctx, ctx.args.foundation, ctx.args.store.uri, served.source)
        )
        body = self._service_body(
            ctx,
            spec,
            options,
            account=account.email,
            version=served.version,
            # A stack-built image carries the model; your own image reads it from the store.
            image=built.image if built else options.image,
            model_uri=MODEL_DIR if built else served.source,
        )
        deployment = CloudRunDeployment(
            ctx.child_name(),
            project=current_project_id(),
            region=region_of(ctx),
            service=service,
            template=body,
            version=served.version,
            canary_percent=spec.canary_percent,
            opts=ctx.opts(depends_on=[*readers, *(built.resources if built else [])]),
        )
        url = pulumi.Output.all(deployment.uri, deployment.deployed_version).apply(
            lambda values: f"{values[0]}/invocations" if values[0] and values[1] else None
        )
        return EndpointResult(
            url=url, deployed_version=deployment.deployed_version, deployment=[deployment]
        )

    def _service_body(
        self,
        ctx: BuildContext[ServingEndpointArgs],
        spec: ServingEndpointSpec,
        options: CloudRunServingOptions,
        *,
        account: pulumi.Input[str],
        version: pulumi.Input[str | None],
        image: pulumi.Input[str | None],
        model_uri: pulumi.Input[str | None],
    ) -> pulumi.Output[Mapping[str, Any]]:
        """The Cloud Run v2 ``Service`` body, without revision name and traffic.

        https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services#Service
        """
        profile = ctx.target.profile
        offer = node_shape(ctx.target, spec, "serving")
        limits = {
            "cpu": options.cpu or ("4" if offer else "1"),
            "memory": options.memory or ("16Gi" if offer else "2Gi"),
        }
        if offer is not None:
            limits["nvidia.com/gpu"] = str(offer.count)
        min_replicas = min_replicas_of(spec, profile)
        labels = gcp_labels(ctx.tags({"mlops-model": spec.model}))
        template: dict[str, Any] = {
            "labels": labels,
            "serviceAccount": account,
            "timeout": f"{options.request_timeout_s}s",
            "maxInstanceRequestConcurrency": spec.target_concurrency,
            "scaling": {"minInstanceCount": min_replicas, "maxInstanceCount": spec.max_replicas},
            "containers": [
                {
                    "image": image,
                    "command": ["/bin/sh", "-c", SERVE_SCRIPT],
                    "ports": [{"name": "http1", "containerPort": _PORT}],
                    "env": [
                        {"name": "MLFLOW_MODEL_URI", "value": model_uri},
                        {"name": "MLOPS_MODEL", "value": spec.model},
                        {"name": "MLOPS_MODEL_VERSION", "value": version},
                    ],
                    "resources": {
                        "limits": limits,
                        # GPU instances need their CPU always allocated.
                        "cpuIdle": offer is None,
                        "startupCpuBoost": True,
                    },
                    "startupProbe": {
                        "httpGet": {"path": "/ping", "port": _PORT},
                        # Cloud Run allows at most 240 s (was 600 s); the model is in the
                        # image, so the budget only covers loading it.
                        "periodSeconds": STARTUP_PROBE_PERIOD_S,
                        "failureThreshold": STARTUP_PROBE_BUDGET_S // STARTUP_PROBE_PERIOD_S,
                    },
                }
            ],
        }
        if offer is not None and offer.accelerator:
            template["nodeSelector"] = {"accelerator": offer.accelerator}
            # Zonal redundancy (reserved spare GPU capacity) where availability matters.
            template["gpuZonalRedundancyDisabled"] = not profile.high_availability
        body = {
            "description": f"model {spec.model} (alias {spec.alias}) of stack {ctx.stack_name}",
            "labels": labels,
            "ingress": "INGRESS_TRAFFIC_ALL" if spec.public else "INGRESS_TRAFFIC_INTERNAL_ONLY",
            "invokerIamDisabled": False,
            "template": template,
        }
        return pulumi.Output.from_input(body)  # pyright: ignore[reportReturnType] - nested outputs resolve
