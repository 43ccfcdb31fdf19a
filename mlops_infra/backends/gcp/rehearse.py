"""``mlops-infra rehearse`` on GCP: the stack's Workflows pipeline, gate and Cloud Run model.

From what the program registers (nothing from the spec):

1. every GCS object (code package, manifest, data) is put into a GCS emulator
   (``gcp-storage-emulator``);
2. an MLflow server runs like the stack's Cloud Run tracking service: artifacts written by
   clients straight to its ``MLFLOW_DEFAULT_ARTIFACT_ROOT`` in the emulated bucket
   (``--no-serve-artifacts``), so MLflow's GCS code moves every artifact;
3. each workflow's program is interpreted
   (:mod:`~mlops_infra.backends.gcp._rehearse_workflow`), its Vertex AI calls answered by
   running the custom jobs here (:mod:`~mlops_infra.backends.gcp._rehearse_vertex`);
4. each promotion gate runs with the code ``pulumi up`` runs;
5. each endpoint's Cloud Run service runs its container command with Cloud Run's contract
   (https://cloud.google.com/run/docs/container-contract: listen on ``$PORT``; the
   service's startup probe) on the version the gate let through, and answers the model's
   serving example on ``/invocations``.
"""

from __future__ import annotations

import json
import secrets
import typing
from pathlib import Path
from typing import Any

from pulumi.asset import FileAsset, StringAsset

from mlops_infra.backends.gcp._rehearse_gcs import EmulatedGcs
from mlops_infra.backends.gcp._rehearse_vertex import VertexFake
from mlops_infra.backends.gcp._rehearse_workflow import WorkflowInterpreter, WorkflowRaised
from mlops_infra.backends.gcp.serving_image import MODEL_DIR
from mlops_infra.images import read_requirements
from mlops_infra.offline import Registration
from mlops_infra.plan.mocks import GATE_PENDING
from mlops_infra.rehearse.context import RehearsalContext
from mlops_infra.rehearse.emulators import gcs_emulator, tracking_server
from mlops_infra.rehearse.errors import RehearsalError, unsupported
from mlops_infra.rehearse.gate import GATE_TYPE, run_gate
from mlops_infra.rehearse.network import LOOPBACK, free_port
from mlops_infra.rehearse.report import StepTiming
from mlops_infra.rehearse.serving import ServingContract, probe_and_predict, serving_python

__all__ = ["SERVING_EXTRAS", "CloudWorkflowsRehearsal"]

_OBJECT = "gcp:storage/bucketObject:BucketObject"
_WORKFLOW = "gcp:workflows/workflow:Workflow"
_SERVICE = "gcp:cloudrunv2/service:Service"
_DEPLOYMENT = "pulumi-python:dynamic/mlops:GcpCloudRunDeployment"
_TRACKING = "MLFLOW_TRACKING_URI"
_ARTIFACT_ROOT = "MLFLOW_DEFAULT_ARTIFACT_ROOT"

SERVING_EXTRAS = ("google-cloud-storage>=2.14",)
"""What the serving image needs besides the model's requirements: MLflow reads the model
from its ``gs://`` location at start."""


class CloudWorkflowsRehearsal:
    """Rehearses a GCP stack (see the module documentation)."""

    def run(self, ctx: RehearsalContext) -> None:
        """Runs the deployment's workflows, gates and Cloud Run models on the emulator."""
        deployment = ctx.deployment
        with gcs_emulator() as emulator:
            gcs = EmulatedGcs(emulator.client())
            requirements = self._put_objects(ctx, gcs)
            artifact_root = self._artifact_root(ctx)
            store_env = emulator.environment()
            with tracking_server(
                ctx.processes,
                workdir=ctx.workdir / "tracking",
                artifact_root=artifact_root,
                environment={**ctx.base_environment, **store_env},
                proxy_artifacts=False,
            ) as tracking:
                ctx.report.line(f"GCS emulator at {emulator.endpoint}")
                ctx.report.line(f"MLflow at {tracking.url}, artifacts in {artifact_root}")
                runtime_env = {**store_env, _TRACKING: tracking.url}
                for workflow in deployment.of_type(_WORKFLOW):
                    self._workflow(ctx, gcs, workflow, runtime_env, requirements)
                served: dict[str | None, dict[str, Any]] = {}
                for gate in deployment.of_type(GATE_TYPE):
                    outputs = run_gate(gate, tracking_url=tracking.url, environment=store_env)
                    ctx.report.gate(gate.name, dict(outputs.get("decision") or {}))
                    served[gate.parent] = outputs
                for service in deployment.of_type(_DEPLOYMENT):
                    if service.parent in served:
                        self._serve(ctx, gcs, service, served[service.parent], store_env)

    @staticmethod
    def _put_objects(ctx: RehearsalContext, gcs: EmulatedGcs) -> list[str]:
        """Uploads every registered object; returns the code package's requirement lines."""
        requirements: list[str] = []
        for registration in ctx.deployment.of_type(_OBJECT):
            inputs = registration.plain_inputs()
            bucket, key = str(inputs["bucket"]), str(inputs["name"])
            source = inputs.get("source")
            if isinstance(source, FileAsset):
                body = Path(str(source.path)).read_bytes()
            elif isinstance(source, StringAsset):
                body = str(source.text).encode("utf-8")
            elif isinstance(inputs.get("content"), str):
                body = str(inputs["content"]).encode("utf-8")
            else:
                raise unsupported(registration.name, f"object source {source!r}", key)
            gcs.put(bucket, key, body)
            if "/code/" in key and key.endswith("requirements.txt"):
                requirements += [
                    line.split("#", 1)[0].strip()
                    for line in body.decode("utf-8").splitlines()
                    if line.split("#", 1)[0].strip()
                ]
        return requirements

    @staticmethod
    def _artifact_root(ctx: RehearsalContext) -> str:
        for service in ctx.deployment.of_type(_SERVICE):
            for container in _containers(service):
                for env in typing.cast(list[dict[str, Any]], container.get("envs") or []):
                    if env.get("name") == _ARTIFACT_ROOT:
                        return str(env["value"]).rstrip("/")
        msg = f"no Cloud Run service sets {_ARTIFACT_ROOT} (the tracking server's artifact root)"
        raise RehearsalError("tracking server", "rehearse", msg)

    def _workflow(
        self,
        ctx: RehearsalContext,
        gcs: EmulatedGcs,
        registration: Registration,
        runtime_env: dict[str, str],
        requirements: list[str],
    ) -> None:
        inputs = registration.plain_inputs()
        source: dict[str, Any] = json.loads(str(inputs["sourceContents"]))
        execution = secrets.token_hex(6)
        environment = {
            "GOOGLE_CLOUD_PROJECT_ID": str(inputs.get("project") or "rehearse"),
            "GOOGLE_CLOUD_LOCATION": str(inputs.get("region") or "us-central1"),
            "GOOGLE_CLOUD_WORKFLOW_ID": str(inputs.get("name") or registration.name),
            "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": execution,
            **{str(k): str(v) for k, v in dict(inputs.get("userEnvVars") or {}).items()},
        }
        fake = VertexFake(ctx, gcs, runtime_env, requirements)
        ctx.report.line(f"workflow {registration.name}: execution {execution}")
        try:
            result = WorkflowInterpreter(source, environment, fake).run()
        except WorkflowRaised as raised:
            if fake.failures:
                step, reason = next(reversed(fake.failures.items()))
                raise RehearsalError(step, "Vertex AI custom job", reason) from raised
            raise RehearsalError(
                raised.step, "Cloud Workflows", f"raised {raised.value}"
            ) from raised
        ctx.report.line(f"workflow {registration.name}: returned {json.dumps(result)[:300]}")

    @staticmethod
    def _serve(
        ctx: RehearsalContext,
        gcs: EmulatedGcs,
        service: Registration,
        gate_outputs: dict[str, Any],
        store_env: dict[str, str],
    ) -> None:
        endpoint = service.name
        step = f"serve {endpoint}"
        containers = _admin_api_containers(service)
        if len(containers) != 1:
            raise unsupported(step, f"{len(containers)} containers", "the Cloud Run service")
        container = containers[0]
        source = gate_outputs.get("served_source")
        version = str(gate_outputs.get("served_version"))
        if not source or not str(source).startswith("gs://"):
            msg = f"the gate serves {source!r}; Cloud Run reads the model from gs://"
            raise RehearsalError(step, "promotion gate", msg)
        bucket, _, prefix = str(source).removeprefix("gs://").partition("/")
        model_files = ctx.workdir / "serve" / endpoint
        folder = f"{prefix.rstrip('/')}/"
        keys = gcs.keys(bucket, folder)
        for name in ("requirements.txt", "serving_input_example.json"):
            if f"{folder}{name}" not in keys:
                raise RehearsalError(
                    step, "MLflow model", f"gs://{bucket}/{folder}{name} is missing"
                )
        # The stack-built image carries the model at MODEL_DIR (generate-dockerfile copies it
        # there from the source): the same files, copied here.
        for key in keys:
            gcs.download(bucket, key, model_files / key.removeprefix(folder))
        python = serving_python(
            ctx,
            [*read_requirements(model_files / "requirements.txt"), *SERVING_EXTRAS],
            endpoint=endpoint,
        )
        port = free_port()
        env: dict[str, str] = {}
        for item in typing.cast(list[dict[str, Any]], container.get("env") or []):
            value = "" if item.get("value") is None else str(item["value"])
            if value.startswith("mlflow-artifacts:/") and GATE_PENDING in value:
                value = str(source)
            if value == MODEL_DIR:
                value = str(model_files)
            env[str(item["name"])] = value.replace(GATE_PENDING, version)
        env.update(store_env)
        env["PORT"] = str(port)
        env["PATH"] = f"{python.parent}:{ctx.base_environment.get('PATH', '')}"
        argv = [str(a).replace("0.0.0.0", LOOPBACK) for a in  # noqa: S104 - rewritten away
                [*container.get("command", []), *container.get("args", [])]]  # fmt: skip
        probe = typing.cast(dict[str, Any], container.get("startupProbe") or {})
        ready = str(typing.cast(dict[str, Any], probe.get("httpGet") or {}).get("path", "/"))
        declared = typing.cast(list[dict[str, Any]], container.get("ports") or [])
        ports: dict[str, Any] = declared[0] if declared else {}
        contract = ServingContract(
            name="Cloud Run container contract (cloud.google.com/run/docs/container-contract)",
            ready_path=ready,
            invoke_path="/invocations",
            container_port=int(ports.get("containerPort", 8080)),
        )
        import time  # noqa: PLC0415

        started = time.monotonic()
        prediction = probe_and_predict(
            ctx, endpoint=endpoint, contract=contract, argv=argv, environment=env,
            cwd=model_files, port=port,
            example=(model_files / "serving_input_example.json").read_bytes(),
        )  # fmt: skip
        ctx.report.step(StepTiming(step, time.monotonic() - started, (str(source),)))
        ctx.report.prediction(endpoint, prediction)


def _admin_api_containers(deployment: Registration) -> list[dict[str, Any]]:
    """The containers of the Service body a Cloud Run deployment sends to the Admin API v2.

    https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services
    (``template.containers[]``: ``command``, ``args``, ``env``, ``ports[]``, ``startupProbe``).
    """
    body = typing.cast(dict[str, Any], deployment.plain_inputs().get("template") or {})
    template = typing.cast(dict[str, Any], body.get("template") or {})
    return typing.cast(list[dict[str, Any]], template.get("containers") or [])


def _containers(service: Registration) -> list[dict[str, Any]]:
    template = typing.cast(dict[str, Any], service.plain_inputs().get("template") or {})
    return typing.cast(list[dict[str, Any]], template.get("containers") or [])
