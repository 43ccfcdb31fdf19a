"""``mlops-infra rehearse`` on AWS: the stack's SageMaker pipeline, gate and endpoint, here.

From what the program registers (nothing from the spec):

1. every S3 object (code package, manifest, data) is put into an S3 emulator (moto),
   under the bucket names the definitions reference;
2. an MLflow server runs with its artifact root at the tracking server's
   ``artifactStoreUri`` in that emulated bucket (MLflow's S3 code moves every artifact);
3. each ``sagemaker.Pipeline``'s definition is interpreted
   (:mod:`~mlops_infra.backends.aws._rehearse_definition`), each step checked against
   botocore's CreateTrainingJob shapes and run as a training job with SageMaker's
   container contract (:mod:`~mlops_infra.backends.aws._rehearse_training`), its MLflow
   calls recorded and checked against the role the stack gives it
   (:mod:`~mlops_infra.backends.aws._rehearse_grants`);
4. each promotion gate runs with the code ``pulumi up`` runs;
5. each ``sagemaker.Model`` is served with SageMaker's hosting contract
   (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html:
   model under ``/opt/ml/model``, port 8080, ``GET /ping``, ``POST /invocations``) from
   the artifacts of the version the gate let through, and answers the model's example.
"""

from __future__ import annotations

import json
import secrets
import time
import typing
from pathlib import Path
from typing import Any

from pulumi.asset import FileAsset, StringAsset

from mlops_infra.backends.aws._contract import RUNTIME_REQUIREMENTS
from mlops_infra.backends.aws._rehearse_definition import DefinitionInterpreter, PipelineStep
from mlops_infra.backends.aws._rehearse_grants import check_mlflow_grants
from mlops_infra.backends.aws._rehearse_s3 import EmulatedS3
from mlops_infra.backends.aws._rehearse_training import TrainingJob, validate_request
from mlops_infra.backends.aws.serving_endpoint import SERVING_IMAGE_TAG, model_data_uri
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.images import read_requirements
from mlops_infra.mlflow_rest import DEPLOYER_CALLS, unexpected_calls
from mlops_infra.offline import Registration
from mlops_infra.rehearse.context import RehearsalContext
from mlops_infra.rehearse.emulators import s3_emulator, tracking_server
from mlops_infra.rehearse.errors import RehearsalError, unsupported
from mlops_infra.rehearse.gate import GATE_TYPE, run_gate
from mlops_infra.rehearse.network import LOOPBACK, free_port
from mlops_infra.rehearse.recorder import CallRecorder, recording_proxy
from mlops_infra.rehearse.report import StepTiming
from mlops_infra.rehearse.serving import (
    MODEL_PATH_VARIABLE,
    ServingContract,
    probe_and_predict,
    serving_python,
)

__all__ = ["SAGEMAKER_HOSTING", "SageMakerRehearsal"]

_PIPELINE = "aws:sagemaker/pipeline:Pipeline"
_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
_TRACKING = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
_DEPLOYMENT = "pulumi-python:dynamic/mlops:SageMakerDeployment"
_TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"

SAGEMAKER_HOSTING = ServingContract(
    name="SageMaker hosting (your-algorithms-inference-code.html)",
    ready_path="/ping",
    invoke_path="/invocations",
    container_port=8080,
)
"""SageMaker's contract for a real-time inference container."""


class SageMakerRehearsal:
    """Rehearses an AWS stack (see the module documentation)."""

    def run(self, ctx: RehearsalContext) -> None:
        """Runs the deployment's pipelines, gates and endpoints against the emulators."""
        deployment = ctx.deployment
        with s3_emulator(deployment.spec.region or "us-east-1") as emulator:
            s3 = EmulatedS3(emulator.client())
            self._put_objects(ctx, s3)
            artifact_root = self._artifact_root(ctx)
            store_env = emulator.environment()
            with (
                tracking_server(
                    ctx.processes,
                    workdir=ctx.workdir / "tracking",
                    artifact_root=artifact_root,
                    environment={**ctx.base_environment, **store_env},
                ) as tracking,
                recording_proxy(tracking.url) as recorder,
            ):
                ctx.report.line(f"S3 emulator (moto) at {emulator.endpoint}")
                ctx.report.line(f"MLflow at {tracking.url}, artifacts in {artifact_root}")
                for pipeline in deployment.of_type(_PIPELINE):
                    self._pipeline(ctx, s3, pipeline, store_env, recorder)
                served: dict[str | None, dict[str, Any]] = {}
                for gate in deployment.of_type(GATE_TYPE):
                    caller = f"gate {gate.name}"
                    outputs = run_gate(
                        gate, tracking_url=recorder.url(caller), environment=store_env
                    )
                    ctx.report.gate(gate.name, dict(outputs.get("decision") or {}))
                    calls = recorder.calls(caller)
                    ctx.report.calls(caller, calls)
                    beyond = unexpected_calls(calls, DEPLOYER_CALLS)
                    if beyond:
                        msg = (
                            f"calls {beyond}, which the deployer's documented MLflow "
                            "permissions (mlflow_rest.DEPLOYER_CALLS) do not cover"
                        )
                        raise RehearsalError(caller, "deployer permissions", msg)
                    served[gate.parent] = outputs
                for model in deployment.of_type(_DEPLOYMENT):
                    self._serve(ctx, s3, model, served.get(model.parent), artifact_root)

    @staticmethod
    def _put_objects(ctx: RehearsalContext, s3: EmulatedS3) -> None:
        for registration in ctx.deployment.of_type(_OBJECT):
            inputs = registration.plain_inputs()
            uri = f"s3://{inputs['bucket']}/{inputs['key']}"
            source = inputs.get("source")
            if isinstance(source, FileAsset):
                s3.put(uri, Path(str(source.path)).read_bytes())
            elif isinstance(source, StringAsset):
                s3.put(uri, str(source.text).encode("utf-8"))
            elif isinstance(inputs.get("content"), str):
                s3.put(uri, str(inputs["content"]).encode("utf-8"))
            else:
                raise unsupported(registration.name, f"object source {source!r}", uri)

    @staticmethod
    def _artifact_root(ctx: RehearsalContext) -> str:
        for tracking in ctx.deployment.of_type(_TRACKING):
            return str(tracking.plain_inputs()["artifactStoreUri"]).rstrip("/")
        buckets = {str(o.inputs["bucket"]) for o in ctx.deployment.of_type(_OBJECT)}
        if len(buckets) != 1:
            msg = f"cannot tell the artifact store among buckets {sorted(buckets)}"
            raise RehearsalError("tracking server", "rehearse", msg)
        return f"s3://{buckets.pop()}/{MLFLOW_PREFIX}".rstrip("/")

    def _pipeline(
        self,
        ctx: RehearsalContext,
        s3: EmulatedS3,
        registration: Registration,
        store_env: dict[str, str],
        recorder: CallRecorder,
    ) -> None:
        inputs = registration.plain_inputs()
        definition: dict[str, Any] = json.loads(str(inputs["pipelineDefinition"]))
        self._inject_dropped_input(ctx, definition)
        name = str(inputs.get("pipelineName") or registration.name)
        execution = secrets.token_hex(6)
        interpreter = DefinitionInterpreter(definition, name, execution)
        steps = interpreter.steps()
        ctx.report.line(f"pipeline {name}: execution {execution}, steps {[s.name for s in steps]}")
        started = time.monotonic()
        for step in steps:
            self._step(ctx, s3, interpreter, step, store_env, recorder=recorder)
        ctx.report.pipeline(name, time.monotonic() - started)

    @staticmethod
    def _inject_dropped_input(ctx: RehearsalContext, definition: dict[str, Any]) -> None:
        fault = ctx.faults.drop_input
        if fault is None:
            return
        step_name, upstream = fault
        for raw in typing.cast(list[dict[str, Any]], definition.get("Steps") or []):
            if raw.get("Name") == step_name:
                arguments = typing.cast(dict[str, Any], raw["Arguments"])
                arguments["InputDataConfig"] = [
                    c
                    for c in arguments["InputDataConfig"]
                    if c["ChannelName"] != f"step-{upstream}"
                ]
                hp = typing.cast(dict[str, Any], arguments["HyperParameters"])
                kept = [s for s in json.loads(hp["mlops_inputs"]) if s != upstream]
                hp["mlops_inputs"] = json.dumps(kept)

    def _step(
        self,
        ctx: RehearsalContext,
        s3: EmulatedS3,
        interpreter: DefinitionInterpreter,
        step: PipelineStep,
        store_env: dict[str, str],
        *,
        recorder: CallRecorder,
    ) -> None:
        job_name = f"pipelines-{interpreter.execution_id}-{step.name}"[:63]
        request: dict[str, Any] = interpreter.resolve(step.arguments, step=step.name)
        request["TrainingJobName"] = job_name
        validate_request(step.name, request)
        self._rename_variable(ctx, request)
        job = TrainingJob(step=step.name, name=job_name, request=request,
                          root=ctx.workdir / "jobs" / step.name / "opt" / "ml")  # fmt: skip
        channels = job.stage(s3)
        python = ctx.runtime_python(self._code_requirements(job, channels), RUNTIME_REQUIREMENTS)
        env = {**ctx.base_environment, **job.environment(channels), **store_env}
        # The planned server (an ARN) decides the step's IAM actions; the step itself talks
        # to the local server through the recorder, under its own name.
        planned_tracking = env.get(_TRACKING_VARIABLE)
        if planned_tracking is not None:
            env[_TRACKING_VARIABLE] = recorder.url(step.name)
        env["PYTHONPATH"] = str(ctx.project_dir)
        stopping = typing.cast(dict[str, Any], request.get("StoppingCondition") or {})
        result = ctx.processes.run(
            job.command(python),
            env=env,
            cwd=job.root,
            log=ctx.workdir / "logs" / f"{step.name}.log",
            timeout_s=float(stopping.get("MaxRuntimeInSeconds", 3600)),
        )
        if result.returncode != 0:
            reason = job.failure_reason()
            what = (
                "ran past MaxRuntimeInSeconds" if result.timed_out else f"exit {result.returncode}"
            )
            detail = f"training job {job_name} failed ({what})" + (f": {reason}" if reason else "")
            raise RehearsalError(step.name, "SageMaker training job", f"{detail}\n{result.tail()}")
        calls = recorder.calls(step.name)
        ctx.report.calls(step.name, calls)
        if planned_tracking is not None:
            check_mlflow_grants(
                ctx.deployment, step=step.name, role_arn=str(request["RoleArn"]),
                tracking_url=planned_tracking, calls=calls, revoked=ctx.faults.revoke_action,
            )  # fmt: skip
        artifacts = job.upload_model(s3)
        interpreter.record(
            step.name, {"ModelArtifacts.S3ModelArtifacts": artifacts, "TrainingJobName": job_name}
        )
        retries = sum(int(p.get("MaxAttempts", 0)) for p in step.retry_policies)
        suffix = f" (retry policy: up to {retries} attempts on SageMaker errors)" if retries else ""
        ctx.report.step(StepTiming(step.name + suffix, result.seconds, (artifacts,)))

    @staticmethod
    def _rename_variable(ctx: RehearsalContext, request: dict[str, Any]) -> None:
        fault = ctx.faults.rename_variable
        if fault is None:
            return
        old, new = fault
        for section in ("HyperParameters", "Environment"):
            values = typing.cast(dict[str, Any], request.get(section) or {})
            if old in values:
                values[new] = values.pop(old)

    @staticmethod
    def _code_requirements(job: TrainingJob, channels: dict[str, Path]) -> list[str]:
        code = channels.get("code")
        if code is None:
            return []
        del job
        return [line for path in sorted(code.rglob("requirements.txt"))
                for line in read_requirements(path)]  # fmt: skip

    @staticmethod
    def _serve(
        ctx: RehearsalContext,
        s3: EmulatedS3,
        model: Registration,
        gate_outputs: dict[str, Any] | None,
        artifact_root: str,
    ) -> None:
        endpoint = model.name.removesuffix("-deployment")
        step = f"serve {endpoint}"
        inputs = model.plain_inputs()
        # No image: the stack builds MLflow's serving image for the version (ImageBuild).
        image = inputs.get("image")
        if image is not None and not str(image).endswith(f":{SERVING_IMAGE_TAG}"):
            msg = f"image {image!r}: rehearse runs MLflow's serving image (tag {SERVING_IMAGE_TAG})"
            raise RehearsalError(step, "SageMaker hosting", msg)
        if gate_outputs is None:
            raise RehearsalError(step, "promotion gate", "no gate decides what this model serves")
        source = gate_outputs.get("served_source")
        try:
            uri = model_data_uri(source, artifact_root + "/", step)
        except Exception as error:
            raise RehearsalError(step, "promotion gate", str(error)) from error
        if uri is None:  # model_data_uri answers None while nothing passed the gate
            raise RehearsalError(step, "promotion gate", "no model version passed the gate")
        model_dir = ctx.workdir / "serve" / endpoint / "opt" / "ml" / "model"
        started = time.monotonic()
        if not s3.download_prefix(uri, model_dir):
            raise RehearsalError(step, "SageMaker hosting", f"no model artifacts under {uri}")
        environment = {str(k): str(v) for k, v in dict(inputs.get("environment") or {}).items()}
        if "MLOPS_MODEL_VERSION" in environment:  # the plan's placeholder: the gate's version
            environment["MLOPS_MODEL_VERSION"] = str(gate_outputs.get("served_version") or "")
        requirements = model_dir / "requirements.txt"
        example = model_dir / "serving_input_example.json"
        for needed in (requirements, example):
            if not needed.is_file():
                msg = f"the model has no {needed.name} (MLflow writes it when logging)"
                raise RehearsalError(step, "MLflow model", msg)
        python = serving_python(ctx, read_requirements(requirements), endpoint=endpoint)
        port = free_port()
        # MLflow's serving container (models/container: _serve) starts this server on the
        # model folder behind nginx on 8080; here it listens on a free loopback port.
        argv = [
            str(python), "-m", "uvicorn", "--host", LOOPBACK, "--port", str(port),
            "--workers", "1", "mlflow.pyfunc.scoring_server.app:app",
        ]  # fmt: skip
        prediction = probe_and_predict(
            ctx, endpoint=endpoint, contract=SAGEMAKER_HOSTING, argv=argv, cwd=model_dir,
            environment={**environment, MODEL_PATH_VARIABLE: model_dir.as_uri()},
            port=port, example=example.read_bytes(),
        )  # fmt: skip
        ctx.report.step(StepTiming(step, time.monotonic() - started, (uri,)))
        ctx.report.prediction(endpoint, prediction)
