"""The local pipeline runner: runs a version's step DAG on this machine, logging to MLflow.

One MLflow run per pipeline run, tagged with the lineage (pipeline version, code,
config and data hashes, git commit and dirty flag, stack, environment). Steps run in
dependency order as subprocesses of the runner, from the immutable package, each
with its GPUs in ``CUDA_VISIBLE_DEVICES`` (CPU when too few are detected). A version
that already ran to completion is never run again: its run and model are reused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_infra.backends.local.gpus import assign_gpus, detect_gpus
from mlops_infra.backends.local.layout import path_of_file_uri
from mlops_infra.backends.local.process import child_environment, tail
from mlops_infra.errors import BackendError
from mlops_infra.runtime.context import StepContext

__all__ = [
    "RunOutcome",
    "RunRequest",
    "StepRequest",
    "experiment_id",
    "find_completed_run",
    "git_state",
    "run_pipeline",
    "tracking_client",
]

#: Environment variable a step process reads to die with its runner.
DIE_WITH_PARENT = "MLOPS_DIE_WITH_PARENT"


@dataclass(frozen=True)
class StepRequest:
    """One step to run.

    Attributes:
        name: Step name.
        component: Dotted module path of its component.
        depends_on: Upstream steps.
        gpus: GPUs it wants (cluster GPUs per node x nodes; 0 for CPU).
        params: Parameters.
        environment_variables: Extra environment.
        timeout_s: Longest it may run.
        retries: Retries after a failure.
    """

    name: str
    component: str
    depends_on: tuple[str, ...] = ()
    gpus: int = 0
    params: Mapping[str, Any] = field(default_factory=dict[str, Any])
    environment_variables: Mapping[str, str] = field(default_factory=dict[str, str])
    timeout_s: int = 3600
    retries: int = 0

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> StepRequest:
        """Builds a step from provider props (where the engine turned every number into a float)."""
        return cls(
            name=str(props["name"]),
            component=str(props["component"]),
            depends_on=tuple(props.get("depends_on") or ()),
            gpus=int(props.get("gpus") or 0),
            params=dict(props.get("params") or {}),
            environment_variables=dict(props.get("environment_variables") or {}),
            timeout_s=int(props.get("timeout_s") or 3600),
            retries=int(props.get("retries") or 0),
        )


@dataclass(frozen=True)
class RunRequest:
    """A pipeline (or job) version to run.

    Attributes:
        pipeline: Pipeline (or job) name; also the MLflow experiment.
        version: Version being run.
        manifest: Its manifest (``VersionManifest.as_dict()``).
        steps: Steps in dependency order.
        package: Immutable package folder (its ``code/`` goes on ``PYTHONPATH``).
        runs_dir: Where step folders are created.
        tracking_url: MLflow tracking URI.
        username: Basic-auth user, if any.
        password: Basic-auth password, if any.
        model_name: Registered model the run produces.
        data: Data reference name → local path or URI.
        project_dir: Project root (for the git commit).
        stack: Stack name.
        environment: Environment name.
        python: Interpreter for the step processes.
    """

    pipeline: str
    version: str
    manifest: Mapping[str, Any]
    steps: Sequence[StepRequest]
    package: Path
    runs_dir: Path
    tracking_url: str
    model_name: str
    project_dir: Path
    stack: str
    environment: str
    username: str | None = None
    password: str | None = None
    data: Mapping[str, str] = field(default_factory=dict[str, str])
    python: str = sys.executable

    @classmethod
    def from_props(
        cls,
        props: Mapping[str, Any],
        *,
        version: str,
        manifest: Mapping[str, Any],
        package: Path,
        steps: Sequence[Mapping[str, Any]],
    ) -> RunRequest:
        """Builds a request from a local provider's props (pipeline, job or schedule)."""
        name = str(props["name"])
        return cls(
            pipeline=name,
            version=version,
            manifest=manifest,
            steps=[StepRequest.from_props(step) for step in steps],
            package=package,
            runs_dir=path_of_file_uri(props["store_uri"]) / "runs" / name,
            tracking_url=props["tracking_url"],
            username=props.get("username"),
            password=props.get("password"),
            model_name=props.get("model_name") or name,
            data=dict(props["data"]),
            project_dir=Path(props["project_dir"]),
            stack=props["stack"],
            environment=props["environment"],
            python=props["python"],
        )


@dataclass(frozen=True)
class RunOutcome:
    """The result of :func:`run_pipeline`.

    Attributes:
        run_id: MLflow run id.
        model_version: Registered model version produced, if a step registered one.
        ran: ``False`` when an earlier completed run of the version was reused.
    """

    run_id: str
    model_version: str | None
    ran: bool


def git_state(project_dir: Path) -> tuple[str, bool]:
    """Returns ``(commit, dirty)`` of the project's checkout; ``("unknown", False)`` outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(project_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return "unknown", False
    return commit, bool(status)


def _client_env(request: RunRequest) -> dict[str, str]:
    env = {"MLFLOW_TRACKING_URI": request.tracking_url}
    if request.username and request.password:
        env["MLFLOW_TRACKING_USERNAME"] = request.username
        env["MLFLOW_TRACKING_PASSWORD"] = request.password
    return env


def tracking_client(request: RunRequest) -> Any:
    """Returns an MLflow client for the request's tracking server (credentials from the request)."""
    os.environ.update(_client_env(request))
    from mlflow import MlflowClient  # noqa: PLC0415 - MLflow is heavy; import on use

    return MlflowClient(tracking_uri=request.tracking_url)


def experiment_id(client: Any, name: str) -> str:
    """Returns the id of experiment ``name``, creating it if needed."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(name))


def _version_filter(version: str, status: str) -> str:
    return f"tags.`mlops.pipeline_version` = '{version}' and tags.`mlops.status` = '{status}'"


def find_completed_run(
    client: Any, experiment_id: str, version: str
) -> tuple[str, str | None] | None:
    """Returns ``(run_id, model_version)`` of a completed run of ``version``, if one exists.

    Completion is the runner's own tag: MLflow marks a run FINISHED whenever a step
    process that resumed it exits, so its status alone proves nothing.
    """
    runs = client.search_runs(
        [experiment_id],
        filter_string=_version_filter(version, "succeeded"),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return None
    run = runs[0]
    return str(run.info.run_id), run.data.tags.get("mlops.model_version")


def _fail_stale_runs(client: Any, experiment_id: str, version: str) -> None:
    # Runs left RUNNING by an interrupted `pulumi up` will never finish; say so.
    for run in client.search_runs(
        [experiment_id],
        filter_string=_version_filter(version, "running"),
    ):
        client.set_tag(run.info.run_id, "mlops.status", "interrupted")
        client.set_terminated(run.info.run_id, "FAILED")


def run_pipeline(
    request: RunRequest,
    progress: Callable[[str], None],
    *,
    trigger: str = "deploy",
    force: bool = False,
) -> RunOutcome:
    """Runs ``request`` unless a completed run of its version exists; returns the outcome.

    Args:
        request: What to run.
        progress: Receives one line per event.
        trigger: Why it runs (``deploy``, ``schedule``), recorded as the ``mlops.trigger`` tag.
        force: Run even if the version already completed (scheduled retraining).

    Raises:
        BackendError: a step failed after its retries (the message has its log's end).
    """
    client = tracking_client(request)
    experiment = experiment_id(client, request.pipeline)
    previous = None if force else find_completed_run(client, experiment, request.version)
    if previous is not None:
        progress(f"version {request.version} already ran (run {previous[0]}); reusing it")
        return RunOutcome(run_id=previous[0], model_version=previous[1], ran=False)
    _fail_stale_runs(client, experiment, request.version)
    commit, dirty = git_state(request.project_dir)
    manifest = request.manifest
    tags = {
        "mlops.pipeline": request.pipeline,
        "mlops.pipeline_version": request.version,
        "mlops.code_hash": str(manifest.get("code_hash", "")),
        "mlops.config_hash": str(manifest.get("config_hash", "")),
        "mlops.data_hash": str(manifest.get("data_hash", "")),
        "mlops.git_commit": commit,
        "mlops.git_dirty": str(dirty).lower(),
        "mlops.stack": request.stack,
        "mlops.environment": request.environment,
        "mlops.trigger": trigger,
    }
    for name, ref in dict(manifest.get("data", {})).items():
        tags[f"mlops.data.{name}"] = str(ref.get("hash", ""))
    run = client.create_run(
        experiment,
        run_name=f"{request.pipeline}-{request.version[:8]}-{time.strftime('%Y%m%d-%H%M%S')}",
        tags={**tags, "mlops.status": "running"},
    )
    run_id = str(run.info.run_id)
    progress(f"run {run_id} of version {request.version} started ({len(request.steps)} steps)")
    run_dir = request.runs_dir / run_id
    model_version: str | None = None
    try:
        detected = detect_gpus()
        outputs: dict[str, str] = {}
        for step in request.steps:
            step_dir = run_dir / step.name
            step_dir.mkdir(parents=True, exist_ok=True)
            devices, note = assign_gpus(step.gpus, detected)
            context = StepContext(
                pipeline=request.pipeline,
                step=step.name,
                version=request.version,
                run_id=run_id,
                model_name=request.model_name,
                params=dict(step.params),
                data=dict(request.data),
                inputs={name: outputs[name] for name in _ancestors(step.name, request.steps)},
                output_dir=str(step_dir),
                tags=tags,
                gpus=devices,
            )
            context.save(step_dir / "context.json")
            client.set_tag(run_id, f"mlops.step.{step.name}.compute", note)
            _run_step(
                request,
                step,
                step_dir,
                run_id=run_id,
                devices=devices,
                progress=progress,
                note=note,
            )
            outputs[step.name] = str(step_dir)
            result_file = step_dir / "result.json"
            if result_file.is_file():
                result = json.loads(result_file.read_text(encoding="utf-8"))
                model_version = result.get("model_version", model_version)
            client.log_artifact(run_id, str(step_dir / "step.log"), artifact_path="logs")
        client.log_dict(run_id, dict(manifest), "mlops/manifest.json")
        if model_version is not None:
            client.set_tag(run_id, "mlops.model_version", model_version)
        client.set_tag(run_id, "mlops.status", "succeeded")
        client.set_terminated(run_id, "FINISHED")
    except BaseException:
        client.set_tag(run_id, "mlops.status", "failed")
        client.set_terminated(run_id, "FAILED")
        raise
    progress(
        f"run {run_id} finished" + (f"; model version {model_version}" if model_version else "")
    )
    return RunOutcome(run_id=run_id, model_version=model_version, ran=True)


def _ancestors(name: str, steps: Sequence[StepRequest]) -> list[str]:
    """Returns every step ``name`` depends on, directly or not: all of their outputs are inputs."""
    parents = {step.name: step.depends_on for step in steps}
    found: list[str] = []
    pending = list(parents.get(name, ()))
    while pending:
        current = pending.pop()
        if current not in found:
            found.append(current)
            pending.extend(parents.get(current, ()))
    return sorted(found)


def _run_step(
    request: RunRequest,
    step: StepRequest,
    step_dir: Path,
    *,
    run_id: str,
    devices: str,
    progress: Callable[[str], None],
    note: str,
) -> None:
    env = child_environment(request.python, _client_env(request))
    env.update(step.environment_variables)
    env.update(
        {
            "PYTHONPATH": str(request.package / "code"),
            "MLFLOW_RUN_ID": run_id,
            "CUDA_VISIBLE_DEVICES": devices,
            DIE_WITH_PARENT: "1",
        }
    )
    command = [
        request.python,
        "-m",
        "mlops_infra.runtime.step",
        str(step_dir / "context.json"),
        step.component,
    ]
    log_file = step_dir / "step.log"
    reason = "did not run"
    for attempt in range(step.retries + 1):
        started = time.monotonic()
        progress(
            f"step {step.name} started ({note})" + (f", attempt {attempt + 1}" if attempt else "")
        )
        with log_file.open("ab") as log:
            # Its own process group: on a timeout the step's workers (data loaders,
            # torchrun ranks) are stopped with it and release their GPUs.
            process = subprocess.Popen(
                command,
                cwd=step_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                code: int | None = process.wait(timeout=step.timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                code = None
        elapsed = time.monotonic() - started
        if code == 0:
            progress(f"step {step.name} finished in {elapsed:.1f}s")
            return
        reason = f"timed out after {step.timeout_s}s" if code is None else f"exited with {code}"
        progress(f"step {step.name} {reason}")
    msg = f"step {step.name!r} of {request.pipeline!r} {reason}; log {log_file}:\n{tail(log_file)}"
    raise BackendError(msg)
