"""Online inference on Cloud Run: the MLflow model server for the version the gate allows.

* The gate (:class:`~mlops_infra.gates.PromotionDecision`, the same on every cloud) is
  evaluated at ``pulumi up``; its ``served_version`` and ``served_source`` (the model's
  ``gs://`` location) configure the service. While no version has passed, the
  container answers ``/ping`` and refuses ``/invocations`` (503), and ``url`` is ``None``.
* Ingress internal only unless ``public``; never an ``allUsers`` invoker: callers need
  ``roles/run.invoker`` on this service, also when it is public.
* Its own service account reads objects of the artifact bucket and nothing else.
* Scaling from ``min_replicas`` (0 allowed: scale to zero) to ``max_replicas``,
  ``target_concurrency`` requests per instance; one NVIDIA L4 per instance when the
  endpoint asks for ``gpu: l4``.
* ``canary_percent``: a newly served version gets that share of the traffic and the
  revision that served the previous version keeps the rest, until the next version or
  until ``canary_percent`` is removed (then the latest revision gets everything).
"""

from __future__ import annotations

import hashlib

import pulumi
from pulumi_gcp import cloudrunv2

from mlops_infra import __version__
from mlops_infra.backends.gcp._cloudrun import MAX_SERVICE_NAME
from mlops_infra.backends.gcp._iam import OBJECT_VIEWER, bucket_member, service_account
from mlops_infra.backends.gcp._platform import fmt, gcp_labels, physical_name, project_id, region_of
from mlops_infra.backends.gcp._revisions import RevisionPlan, traffic_split
from mlops_infra.backends.gcp.options import CloudRunServingOptions
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

__all__ = ["SERVE_SCRIPT", "SERVING_IMAGE", "CloudRunServingEndpoint"]

SERVING_IMAGE = "mlflow-serving"
"""Repository of the default model server image in the stack registry."""

_PORT = 8080
_NO_MODEL_SERVER = (
    "import http.server as h, os\n"
    "class H(h.BaseHTTPRequestHandler):\n"
    "    def reply(s, code, text):\n"
    "        s.send_response(code); s.end_headers(); s.wfile.write(text.encode())\n"
    "    def do_GET(s):\n"
    "        s.reply(200, 'no model') if s.path in ('/ping', '/health') else s.do_POST()\n"
    "    def do_POST(s):\n"
    "        s.reply(503, 'no model version has passed the promotion gate')\n"
    "h.HTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n"
)
SERVE_SCRIPT = (
    'if [ -z "$MLFLOW_MODEL_URI" ]; then exec python -c "$MLOPS_NO_MODEL_SERVER"; fi\n'
    'exec mlflow models serve -m "$MLFLOW_MODEL_URI" --env-manager local '
    '--host 0.0.0.0 --port "$PORT"\n'
)
"""Container command: serve the gated model, or answer 503 while there is none."""


class CloudRunServingEndpoint(ServingEndpointBackend):
    """The promotion gate and a Cloud Run service serving what it allows."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        """Declares the gate decision, the serving identity, the revision plan and the service."""
        if spec.instance_type is not None:
            msg = (
                f"{ctx.name}: Cloud Run has no instance types (got {spec.instance_type!r}); "
                "size instances with options.cpu and options.memory, or ask for gpu: l4"
            )
            raise BackendError(msg)
        options = ctx.options_as(CloudRunServingOptions)
        region = region_of(ctx)
        profile = ctx.target.profile
        account = service_account(ctx, "server", f"serves model {spec.model}")
        reader = bucket_member(ctx, "models", ctx.args.store.uri, account, OBJECT_VIEWER)
        offer = node_shape(ctx.target, spec, "serving")
        limits = {
            "cpu": options.cpu or ("4" if offer else "1"),
            "memory": options.memory or ("16Gi" if offer else "2Gi"),
        }
        if offer is not None:
            limits["nvidia.com/gpu"] = str(offer.count)
        version_text = served.version.apply(lambda v: v or "")
        source = served.source.apply(lambda s: s or "")
        image = self._image(ctx, options)
        min_replicas = spec.min_replicas if spec.min_replicas is not None else profile.min_replicas
        name = physical_name(ctx.name, max_length=MAX_SERVICE_NAME, salt=ctx.stack_name)
        # Everything that makes a new revision; the plan names one per distinct template.
        digest = pulumi.Output.json_dumps(
            {
                "image": image,
                "source": source,
                "version": version_text,
                "limits": limits,
                "accelerator": offer.accelerator if offer else None,
                "scaling": [min_replicas, spec.max_replicas, spec.target_concurrency],
                "timeout": options.request_timeout_s,
                "account": account.email,
            }
        ).apply(lambda text: hashlib.sha256(text.encode()).hexdigest())
        plan = RevisionPlan(
            ctx.child_name("revisions"),
            service=name,
            digest=digest,
            version=served.version,
            opts=ctx.opts(),
        )
        canary = spec.canary_percent
        traffic = pulumi.Output.all(plan.revision, plan.stable_revision).apply(
            lambda names: traffic_split(names[0], names[1], canary)
        )
        env = [
            cloudrunv2.ServiceTemplateContainerEnvArgs(name="MLFLOW_MODEL_URI", value=source),
            cloudrunv2.ServiceTemplateContainerEnvArgs(name="MLOPS_MODEL", value=spec.model),
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="MLOPS_MODEL_VERSION", value=version_text
            ),
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="MLOPS_NO_MODEL_SERVER", value=_NO_MODEL_SERVER
            ),
        ]
        service = cloudrunv2.Service(
            ctx.child_name(),
            name=name,
            location=region,
            project=project_id(),
            description=f"model {spec.model} (alias {spec.alias}) of stack {ctx.stack_name}",
            ingress="INGRESS_TRAFFIC_ALL" if spec.public else "INGRESS_TRAFFIC_INTERNAL_ONLY",
            invoker_iam_disabled=False,
            # Stateless: the provider's own flag (on by default) would make destroy fail.
            deletion_protection=False,
            labels=gcp_labels(ctx.tags({"mlops-model": spec.model})),
            traffics=traffic,
            template=cloudrunv2.ServiceTemplateArgs(
                revision=plan.revision,
                service_account=account.email,
                timeout=f"{options.request_timeout_s}s",
                max_instance_request_concurrency=spec.target_concurrency,
                scaling=cloudrunv2.ServiceTemplateScalingArgs(
                    min_instance_count=min_replicas, max_instance_count=spec.max_replicas
                ),
                node_selector=(
                    cloudrunv2.ServiceTemplateNodeSelectorArgs(accelerator=offer.accelerator)
                    if offer is not None and offer.accelerator
                    else None
                ),
                # Zonal redundancy (reserved spare GPU capacity) where availability matters.
                gpu_zonal_redundancy_disabled=(
                    not profile.high_availability if offer is not None else None
                ),
                containers=[
                    cloudrunv2.ServiceTemplateContainerArgs(
                        image=image,
                        commands=["/bin/sh", "-c", SERVE_SCRIPT],
                        ports=cloudrunv2.ServiceTemplateContainerPortsArgs(
                            name="http1", container_port=_PORT
                        ),
                        envs=env,
                        resources=cloudrunv2.ServiceTemplateContainerResourcesArgs(
                            limits=limits,
                            # GPU instances need their CPU always allocated.
                            cpu_idle=offer is None,
                            startup_cpu_boost=True,
                        ),
                        startup_probe=cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                            http_get=cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs(
                                path="/ping", port=_PORT
                            ),
                            period_seconds=10,
                            failure_threshold=60,
                        ),
                    )
                ],
                labels=gcp_labels(ctx.tags({"mlops-model": spec.model})),
            ),
            opts=ctx.opts(depends_on=[reader]),
        )
        url = pulumi.Output.all(service.uri, served.version).apply(
            lambda values: f"{values[0]}/invocations" if values[1] else None
        )
        return EndpointResult(url=url, deployed_version=served.version, deployment=[service])

    @staticmethod
    def _image(
        ctx: BuildContext[ServingEndpointArgs], options: CloudRunServingOptions
    ) -> pulumi.Input[str]:
        if options.image:
            return options.image
        registry = ctx.args.foundation.registry_url if ctx.args.foundation else None
        if registry is None:
            msg = (
                f"{ctx.name}: no model server image; set options.image on the endpoint or let "
                "the stack create its container registry (registry.create: true)"
            )
            raise BackendError(msg)
        return fmt("{}/{}:{}", registry, SERVING_IMAGE, __version__)
