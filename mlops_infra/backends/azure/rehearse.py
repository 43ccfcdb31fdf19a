"""``mlops-infra rehearse`` on Azure: the stack's Azure ML pipeline job, gate and endpoint.

From what the program registers (nothing from the spec):

1. every blob (code package, manifest, data) is put into Azurite, under the storage
   account names the stack uses (Azurite's development key for each);
2. an MLflow server runs with its artifact root in the store's container on Azurite
   (MLflow's Azure Blob code moves every artifact), reached only through a proxy that
   answers what Azure ML does not serve (MLflow 3's logged models) with 404, as Azure ML
   does (:mod:`mlops_infra.backends.azure.mlflow_surface`);
3. each pipeline job is interpreted: its nodes in the order their
   ``${{parent.jobs.<step>.outputs...}}`` bindings imply, each node's command component
   run with Azure ML's command-job contract (the code snapshot as working directory,
   ``${{inputs.*}}``/``${{outputs.*}}`` bound to mounted folders, ``AZUREML_*``
   variables); components and the job are also loaded with ``azure-ai-ml``'s offline
   loaders, so Microsoft's schema validates them;
4. each promotion gate runs with the code ``pulumi up`` runs;
5. each online deployment serves the version the gate let through with Azure ML's
   inference server (``azmlinfsrv``): liveness and readiness on ``/``, scoring on
   ``/score``, the model under ``AZUREML_MODEL_DIR``.
"""

from __future__ import annotations

import importlib
import json
import shlex
import tempfile
import time
import typing
from pathlib import Path
from typing import Any

import yaml
from pulumi.asset import FileAsset, StringAsset

from mlops_infra.backends.azure._rehearse_bindings import bind_command, node_binding
from mlops_infra.backends.azure._rehearse_blob import EmulatedBlob, split_url
from mlops_infra.backends.azure._rehearse_score import SCORE_SCRIPT
from mlops_infra.backends.azure.mlflow_surface import azure_ml_unsupported
from mlops_infra.images import read_requirements
from mlops_infra.offline import Registration
from mlops_infra.rehearse.context import RehearsalContext
from mlops_infra.rehearse.emulators import azurite_emulator, tracking_server
from mlops_infra.rehearse.errors import RehearsalError, unsupported
from mlops_infra.rehearse.gate import GATE_TYPE, run_gate
from mlops_infra.rehearse.network import free_port
from mlops_infra.rehearse.recorder import recording_proxy
from mlops_infra.rehearse.report import StepTiming
from mlops_infra.rehearse.serving import ServingContract, probe_and_predict, serving_python
from mlops_infra.specs.pipeline import topological_order

__all__ = ["AZURE_ONLINE_ENDPOINT", "AzureMlRehearsal"]

_ML = "azure-native:machinelearningservices"
_BLOB = "azure-native:storage:Blob"
_ACCOUNT = "azure-native:storage:StorageAccount"
_CONTAINER = "azure-native:storage:BlobContainer"
_JOB = f"{_ML}:Job"
_JOB_RUN = "pulumi-python:dynamic/mlops:AzureMlPipelineRun"
"""The dynamic resource that submits a pipeline job at ``up`` (its body under ``job``)."""
_DEPLOYMENT = f"{_ML}:OnlineDeployment"
# The version-specific deployment the serving backend releases at ``up`` (online_release.py).
_RELEASE = "pulumi-python:dynamic/mlops:AzureMlOnlineRelease"
_MOUNT_MODES = {None, "ro_mount", "download", "rw_mount", "upload"}
_CONTRACT = "Azure ML command job"
_SERVING_EXTRAS = ("azureml-inference-server-http>=1.3",)

AZURE_ONLINE_ENDPOINT = ServingContract(
    name="Azure ML online endpoint (how-to-deploy-custom-container: liveness, readiness, scoring)",
    ready_path="/",
    invoke_path="/score",
    container_port=5001,
)
"""The inference server's routes Azure ML probes and sends requests to."""


def _by_id(ctx: RehearsalContext, resource_id: str) -> Registration:
    """The registration whose (mock) id is ``resource_id`` (``<name>-id`` under mocks)."""
    for registration in ctx.deployment.run.registrations:
        if f"{registration.name}-id" == resource_id:
            return registration
    raise RehearsalError("pipeline", "rehearse", f"no resource has id {resource_id!r}")


class AzureMlRehearsal:
    """Rehearses an Azure stack (see the module documentation)."""

    def run(self, ctx: RehearsalContext) -> None:
        """Runs the deployment's pipeline jobs, gates and deployments on Azurite."""
        deployment = ctx.deployment
        accounts = tuple(
            dict.fromkeys(
                str(r.plain_inputs()["accountName"]) for r in deployment.of_type(_ACCOUNT)
            )
        )
        if not accounts:
            raise RehearsalError("artifact store", "rehearse", "the stack has no storage account")
        with azurite_emulator(
            ctx.processes, project_dir=ctx.project_dir, workdir=ctx.workdir / "azurite",
            accounts=accounts,
        ) as emulator:  # fmt: skip
            blobs = EmulatedBlob({a: emulator.connection_string(a) for a in accounts})
            self._put_blobs(ctx, blobs)
            containers = [
                str(r.plain_inputs()["containerName"]) for r in deployment.of_type(_CONTAINER)
            ]
            container = containers[0] if containers else "artifacts"
            artifact_root = f"wasbs://{container}@{accounts[0]}.blob.core.windows.net/mlflow"
            store_env = emulator.environment()
            with (
                tracking_server(
                    ctx.processes, workdir=ctx.workdir / "tracking", artifact_root=artifact_root,
                    environment={**ctx.base_environment, **store_env},
                ) as server,
                recording_proxy(server.url, unsupported=azure_ml_unsupported) as surface,
            ):  # fmt: skip
                # Every caller talks to MLflow through what Azure ML serves of its API.
                tracking_url = surface.url("azure-ml")
                ctx.report.line(f"Azurite at {emulator.endpoint} (accounts {list(accounts)})")
                ctx.report.line(
                    f"MLflow at {server.url} as Azure ML serves it (no logged-models API), "
                    f"artifacts in {artifact_root}"
                )
                for job in [*deployment.of_type(_JOB), *deployment.of_type(_JOB_RUN)]:
                    inputs = job.plain_inputs()
                    body = typing.cast(dict[str, Any], inputs.get("job") or inputs)
                    properties = typing.cast(dict[str, Any], body["properties"])
                    if properties.get("jobType") != "Pipeline":
                        raise unsupported(job.name, f"jobType {properties.get('jobType')}", "a job")
                    store = f"https://{accounts[0]}.blob.core.windows.net/{container}"
                    _PipelineRun(
                        ctx, blobs, tracking_url, store, name=job.name, properties=properties
                    ).run()
                served: dict[str | None, dict[str, Any]] = {}
                for gate in deployment.of_type(GATE_TYPE):
                    outputs = run_gate(gate, tracking_url=tracking_url, environment=store_env)
                    ctx.report.gate(gate.name, dict(outputs.get("decision") or {}))
                    served[gate.parent] = outputs
                done: set[str | None] = set()
                for item in [*deployment.of_type(_RELEASE), *deployment.of_type(_DEPLOYMENT)]:
                    if item.parent in served and item.parent not in done:
                        done.add(item.parent)
                        self._serve(ctx, item, served[item.parent], tracking_url, store_env)

    @staticmethod
    def _put_blobs(ctx: RehearsalContext, blobs: EmulatedBlob) -> None:
        for registration in ctx.deployment.of_type(_BLOB):
            inputs = registration.plain_inputs()
            source = inputs.get("source")
            if isinstance(source, FileAsset):
                body = Path(str(source.path)).read_bytes()
            elif isinstance(source, StringAsset):
                body = str(source.text).encode("utf-8")
            else:
                raise unsupported(registration.name, f"blob source {source!r}", "a blob")
            blobs.put(str(inputs["accountName"]), str(inputs["containerName"]),
                      str(inputs["blobName"]), body)  # fmt: skip

    @staticmethod
    def _serve(
        ctx: RehearsalContext,
        deployment: Registration,
        gate_outputs: dict[str, Any],
        tracking_url: str,
        store_env: dict[str, str],
    ) -> None:
        endpoint = deployment.name.rsplit("-", 1)[0]
        step = f"serve {endpoint}"
        source, version = gate_outputs.get("served_source"), gate_outputs.get("served_version")
        if not source:
            raise RehearsalError(step, "promotion gate", "the gate serves no version")
        inputs = deployment.plain_inputs()
        properties = typing.cast(dict[str, Any], inputs.get("properties") or {})
        model_ref = str(inputs.get("model_id") or properties.get("model") or "")
        if "/models/" not in model_ref:
            raise unsupported(step, f"model {model_ref!r}", "the online deployment")
        model_name = model_ref.split("/models/", 1)[1].split("/", maxsplit=1)[0]
        model_dir = ctx.workdir / "serve" / endpoint / "azureml-models" / model_name / str(version)
        started = time.monotonic()
        _download_model(str(source), model_dir / "model", tracking_url, store_env)
        requirements = model_dir / "model" / "requirements.txt"
        example = model_dir / "model" / "serving_input_example.json"
        for needed in (requirements, example):
            if not needed.is_file():
                raise RehearsalError(step, "MLflow model", f"the model has no {needed.name}")
        python = serving_python(
            ctx, [*read_requirements(requirements), *_SERVING_EXTRAS], endpoint=endpoint
        )
        script = ctx.workdir / "serve" / endpoint / "score.py"
        script.write_text(SCORE_SCRIPT, encoding="utf-8")
        port, health = free_port(), free_port()
        argv = [str(python.parent / "azmlinfsrv"), "--entry_script", str(script),
                "--model_dir", str(model_dir), "--port", str(port),
                "--health_port", str(health)]  # fmt: skip
        split = json.loads(example.read_text(encoding="utf-8"))["dataframe_split"]
        body = json.dumps({"input_data": split}).encode("utf-8")
        prediction = probe_and_predict(
            ctx, endpoint=endpoint, contract=AZURE_ONLINE_ENDPOINT, argv=argv,
            environment={"AZUREML_MODEL_DIR": str(model_dir),
                         "PATH": f"{python.parent}:{ctx.base_environment.get('PATH', '')}"},
            cwd=script.parent, port=port, example=body,
        )  # fmt: skip
        ctx.report.step(StepTiming(step, time.monotonic() - started, (str(source),)))
        ctx.report.prediction(endpoint, prediction)


def _download_model(source: str, target: Path, tracking_url: str, env: dict[str, str]) -> None:
    import os  # noqa: PLC0415

    import mlflow.artifacts  # noqa: PLC0415 - heavy

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            path = mlflow.artifacts.download_artifacts(  # pyright: ignore[reportUnknownMemberType]
                artifact_uri=source, dst_path=scratch, tracking_uri=tracking_url
            )
            import shutil  # noqa: PLC0415

            shutil.copytree(str(path), target, dirs_exist_ok=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _PipelineRun:
    """One execution of a pipeline job (see :class:`AzureMlRehearsal`)."""

    def __init__(
        self,
        ctx: RehearsalContext,
        blobs: EmulatedBlob,
        tracking_url: str,
        store: str,
        *,
        name: str,
        properties: dict[str, Any],
    ) -> None:
        self.ctx, self.blobs, self.tracking_url, self.store = ctx, blobs, tracking_url, store
        self.name = name
        self.properties = properties
        self.outputs: dict[str, dict[str, str]] = {}

    def run(self) -> None:
        nodes = typing.cast(dict[str, dict[str, Any]], self.properties.get("jobs") or {})
        self._inject_dropped_input(nodes)
        edges = {step: self._upstreams(step, node) for step, node in nodes.items()}
        order = topological_order(edges)
        self._validate(nodes)
        root_run = self._root_run()
        self.ctx.report.line(f"pipeline job {self.name}: root run {root_run}, steps {order}")
        for step in order:
            self._node(step, nodes[step], root_run)

    @staticmethod
    def _upstreams(step: str, node: dict[str, Any]) -> list[str]:
        found: list[str] = []
        for value in typing.cast(dict[str, dict[str, Any]], node.get("inputs") or {}).values():
            text = str(value.get("value", ""))
            if "parent.jobs." in text:
                found.append(text.split("parent.jobs.", 1)[1].split(".", 1)[0])
        del step
        return found

    def _inject_dropped_input(self, nodes: dict[str, dict[str, Any]]) -> None:
        fault = self.ctx.faults.drop_input
        if fault is None or fault[0] not in nodes:
            return
        step, upstream = fault
        typing.cast(dict[str, Any], nodes[step].get("inputs") or {}).pop(upstream, None)
        self._dropped = (step, upstream)

    def _component(self, node: dict[str, Any]) -> dict[str, Any]:
        registration = _by_id(self.ctx, str(node["componentId"]))
        properties = typing.cast(dict[str, Any], registration.plain_inputs()["properties"])
        spec = dict(typing.cast(dict[str, Any], properties["componentSpec"]))
        dropped = getattr(self, "_dropped", None)
        if dropped and spec.get("display_name", "").endswith(f"/{dropped[0]}"):
            upstream = dropped[1]
            spec["inputs"] = {k: v for k, v in spec["inputs"].items() if k != upstream}
            spec["command"] = str(spec["command"]).replace(
                f" --input {upstream}=${{{{inputs.{upstream}}}}}", ""
            )
        return spec

    def _validate(self, nodes: dict[str, dict[str, Any]]) -> None:
        """Loads each component and the job with azure-ai-ml (Microsoft's schemas)."""
        try:
            # Any: azure-ai-ml is only partly typed.
            azure_ml: Any = importlib.import_module("azure.ai.ml")
        except ImportError as error:
            msg = "azure-ai-ml is not installed (pip install 'mlops-infra[dev]')"
            raise RehearsalError(self.name, "Azure ML schema", msg) from error
        folder = self.ctx.workdir / "azure-ml-specs"
        (folder / "code").mkdir(parents=True, exist_ok=True)
        jobs: dict[str, Any] = {}
        for step, node in nodes.items():
            spec = self._component(node)
            document = {
                "$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
                **{k: v for k, v in spec.items() if k not in {"code", "environment"}},
                "code": "./code",
                "environment": "azureml:rehearse-environment:1",
            }
            path = folder / f"{step}.yaml"
            path.write_text(yaml.safe_dump(document), encoding="utf-8")
            try:
                azure_ml.load_component(source=str(path))
            except Exception as error:  # azure-ai-ml raises its own validation types
                raise RehearsalError(
                    step, "Azure ML command component schema", str(error)
                ) from error
            inputs: dict[str, Any] = {}
            for name, value in typing.cast(
                dict[str, dict[str, Any]], node.get("inputs") or {}
            ).items():
                kind = value.get("job_input_type")
                inputs[name] = (
                    value["value"]
                    if kind == "literal"
                    else {"type": kind, "path": value.get("uri")}
                )
            output = {"output": {"type": "uri_folder", "mode": "rw_mount"}}
            jobs[step] = {"type": "command", "component": f"file:./{step}.yaml",
                          "inputs": inputs, "outputs": output}  # fmt: skip
        job_path = folder / "pipeline.yaml"
        job_path.write_text(yaml.safe_dump({
            "$schema": "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json",
            "type": "pipeline", "jobs": jobs,
        }), encoding="utf-8")  # fmt: skip
        try:
            azure_ml.load_job(source=str(job_path))
        except Exception as error:
            raise RehearsalError(self.name, "Azure ML pipeline job schema", str(error)) from error

    def _root_run(self) -> str:
        from mlflow import MlflowClient  # noqa: PLC0415

        client: Any = MlflowClient(tracking_uri=self.tracking_url)
        name = str(self.properties.get("experimentName") or self.name)
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
        tags = {str(k): str(v) for k, v in dict(self.properties.get("tags") or {}).items()}
        return str(client.create_run(experiment_id, tags=tags, run_name=self.name).info.run_id)

    def _node(self, step: str, node: dict[str, Any], root_run: str) -> None:
        if node.get("type") != "command":
            raise unsupported(step, f"type {node.get('type')}", f"node {step!r}")
        spec = self._component(node)
        root = self.ctx.workdir / "jobs" / step
        code = root / "code"
        code_uri = self._code_uri(str(spec.get("code", "")), step)
        if not self.blobs.download_prefix(code_uri, code):
            raise RehearsalError(step, _CONTRACT, f"the code snapshot {code_uri} is empty")
        inputs = self._mount_inputs(step, node, root / "inputs")
        renamed = self.ctx.faults.rename_variable
        if renamed and renamed[0] in inputs:
            inputs[renamed[1]] = inputs.pop(renamed[0])
        outputs = {name: root / "outputs" / name for name in dict(spec.get("outputs") or {})}
        for folder in outputs.values():
            folder.mkdir(parents=True, exist_ok=True)
        command = bind_command(step, str(spec["command"]), inputs=inputs, outputs=outputs)
        argv = shlex.split(command)
        python = self.ctx.runtime_python(self._environment_requirements(str(spec["environment"])))
        if argv[0] in {"python", "python3"}:
            argv[0] = str(python)
        child_run = f"{root_run}-{step}"
        env = {
            **{str(k): str(v) for k, v in dict(spec.get("environment_variables") or {}).items()},
            "MLFLOW_TRACKING_URI": self.tracking_url,
            "AZUREML_ROOT_RUN_ID": root_run,
            "AZUREML_RUN_ID": child_run,
            "AZUREML_EXPERIMENT_ID": "rehearse",
            "AZUREML_CR_DATA_CAPABILITY_PATH": str(root),
            "PYTHONPATH": str(self.ctx.project_dir),
        }
        limits = typing.cast(dict[str, Any], node.get("limits") or {})
        result = self.ctx.processes.run(
            argv, env={**self.ctx.base_environment, **env}, cwd=code,
            log=self.ctx.workdir / "logs" / f"{step}.log",
            timeout_s=_duration_s(str(limits.get("timeout", "P7D"))),
        )  # fmt: skip
        if result.returncode != 0:
            what = "ran past limits.timeout" if result.timed_out else f"exit {result.returncode}"
            raise RehearsalError(step, _CONTRACT, f"{what}\n{result.tail()}")
        uploaded: list[str] = []
        for name, folder in outputs.items():
            url = f"{self.store}/azureml/{self.name}/{step}/{name}/"
            self.blobs.upload_tree(folder, url)
            uploaded.append(url)
        self.outputs[step] = dict(zip(outputs, uploaded, strict=True))
        self.ctx.report.step(StepTiming(step, result.seconds, tuple(uploaded)))

    def _mount_inputs(self, step: str, node: dict[str, Any], folder: Path) -> dict[str, Path]:
        mounted: dict[str, Path] = {}
        for name, value in typing.cast(dict[str, dict[str, Any]], node.get("inputs") or {}).items():
            kind = value.get("job_input_type")
            target = folder / name
            if kind == "literal":
                # The upstream output, as stored: mounted read-only from Azurite.
                url = node_binding(step, str(value.get("value", "")), outputs=self.outputs,
                                   parent_inputs={})  # fmt: skip
                self.blobs.download_prefix(url, target)
                mounted[name] = target
            elif kind in {"uri_file", "uri_folder"}:
                if value.get("mode") not in _MOUNT_MODES:
                    raise unsupported(step, f"mode {value.get('mode')}", f"input {name!r}")
                files = self.blobs.download_prefix(str(value["uri"]), target)
                if not files:
                    raise RehearsalError(
                        step, _CONTRACT, f"input {name!r}: nothing at {value['uri']}"
                    )
                mounted[name] = files[0] if kind == "uri_file" else target
            else:
                raise unsupported(step, f"job_input_type {kind}", f"input {name!r}")
        return mounted

    def _code_uri(self, code_id: str, step: str) -> str:
        registration = _by_id(self.ctx, code_id)
        properties = typing.cast(dict[str, Any], registration.plain_inputs()["properties"])
        uri = str(properties.get("codeUri", ""))
        if not uri.startswith("https://"):
            raise unsupported(step, f"codeUri {uri}", "the code version")
        split_url(uri)
        return uri.rstrip("/") + "/"

    def _environment_requirements(self, environment_id: str) -> list[str]:
        """The pip lines of the environment's conda file (the image build's requirements)."""
        registration = _by_id(self.ctx, environment_id)
        properties = typing.cast(dict[str, Any], registration.plain_inputs()["properties"])
        conda: Any = yaml.safe_load(str(properties.get("condaFile") or "{}")) or {}
        pip: list[str] = []
        for item in typing.cast(list[Any], conda.get("dependencies") or []):
            if isinstance(item, dict) and "pip" in item:
                pip += [str(line) for line in typing.cast(dict[str, Any], item)["pip"]]
        # mlops-infra itself is this project's source (on PYTHONPATH); runtime_python adds
        # its dependencies.
        return [line for line in pip if not line.startswith("mlops-infra")]


def _duration_s(value: str) -> float:
    """An ISO 8601 duration (``PT1H``, ``P7D``) in seconds."""
    import re  # noqa: PLC0415

    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", value)
    if match is None:
        return 7 * 86400.0
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(days * 86400 + hours * 3600 + minutes * 60 + seconds)
