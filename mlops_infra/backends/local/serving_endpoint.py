"""Local serving endpoint: ``mlflow models serve`` for the version the promotion gate allows.

At ``pulumi up`` the gate is evaluated against the tracking server: a passing
candidate is promoted (the alias moves to it) and served; a failing one leaves the
endpoint on the version it served, or undeployed. The decision, with the metric
values and reasons, is an output. ``read`` health-checks the model server.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from mlops_infra.backends.local.dynamic import as_int, changed_keys, plain
from mlops_infra.backends.local.layout import StackLayout, log_progress
from mlops_infra.backends.local.options import LocalEndpointOptions
from mlops_infra.backends.local.process import (
    child_environment,
    find_free_port,
    http_ok,
    is_alive,
    port_is_free,
    read_record,
    start_process,
    stop_process,
    wait_for_http,
)
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    EndpointResult,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.specs import ServingEndpointSpec

__all__ = ["LocalServingEndpoint", "ModelServer"]

_INPUTS = (
    "model",
    "alias",
    "pinned_version",
    "candidate_version",
    "gate",
    "evidence",
    "host",
    "port_option",
    "python",
    "tracking_url",
    "username",
    "password",
)


def _paths(props: dict[str, Any]) -> tuple[Path, Path, Path]:
    data_dir = Path(props["data_dir"])
    return data_dir, data_dir / "server.pid", data_dir / "server.log"


def _running(props: dict[str, Any]) -> bool:
    _, pid_file, _ = _paths(props)
    port = as_int(props.get("port"))
    return (
        bool(port)
        and is_alive(read_record(pid_file))
        and http_ok(f"http://{props['host']}:{port}/ping")
    )


def _serve(props: dict[str, Any], version: str, port: int) -> int:
    data_dir, pid_file, log_file = _paths(props)
    progress_log = Path(props["progress_log"])
    stop_process(pid_file)
    if not port_is_free(props["host"], port):
        msg = f"port {port} on {props['host']} is in use by another program; set options.port"
        raise BackendError(msg)
    env = child_environment(props["python"], {"MLFLOW_TRACKING_URI": props["tracking_url"]})
    if props.get("username") and props.get("password"):
        env["MLFLOW_TRACKING_USERNAME"] = props["username"]
        env["MLFLOW_TRACKING_PASSWORD"] = props["password"]
    command = [
        props["python"],
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        f"models:/{props['model']}/{version}",
        "--env-manager",
        "local",
        "--host",
        props["host"],
        "--port",
        str(port),
    ]
    log_progress(
        progress_log, props["name"], f"serving {props['model']} version {version} on port {port}"
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    record = start_process(command, pid_file=pid_file, log_file=log_file, env=env, cwd=data_dir)
    try:
        wait_for_http(
            f"http://{props['host']}:{port}/ping",
            timeout_s=float(props["start_timeout_s"]),
            record=record,
            log_file=log_file,
            progress=lambda message: log_progress(progress_log, props["name"], message),
        )
    except BackendError:
        stop_process(pid_file)
        raise
    log_progress(
        progress_log, props["name"], f"model server ready at http://{props['host']}:{port}"
    )
    return record.pid


def _reconcile(props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
    from mlops_infra.gates import evaluate_gate  # noqa: PLC0415 - provider-side only
    from mlops_infra.gates.registry_client import RegistryClient  # noqa: PLC0415
    from mlops_infra.specs import PromotionGate  # noqa: PLC0415

    progress_log = Path(props["progress_log"])
    registry = RegistryClient(props["tracking_url"], props.get("username"), props.get("password"))
    model, alias = props["model"], props["alias"]
    proposed = (
        props.get("pinned_version")
        or props.get("candidate_version")
        or registry.latest_version(model)
    )
    candidate = registry.load(model, str(proposed)) if proposed else None
    if proposed and candidate is None:
        msg = f"model {model!r} has no version {proposed}"
        raise BackendError(msg)
    previous = registry.alias_version(model, alias)
    champion = registry.load(model, previous) if previous else None
    gate = PromotionGate.model_validate(props["gate"]) if props.get("gate") else None
    decision = evaluate_gate(gate, candidate, champion, props.get("evidence") or {})
    log_progress(progress_log, props["name"], f"gate: {decision.outcome}: {decision.reason}")
    if decision.outcome == "promoted" and decision.served:
        registry.promote(model, alias, decision.served)
    passed: list[str] = list((olds or {}).get("passed_pipeline_versions") or [])
    if (
        decision.passed
        and decision.candidate_pipeline_version
        and decision.candidate_pipeline_version not in passed
    ):
        passed.append(decision.candidate_pipeline_version)
    if decision.passed and decision.candidate:
        registry.tag(model, decision.candidate, f"mlops.gate.{props['environment']}", "passed")
    port = (
        as_int(props["port_option"])
        or as_int((olds or {}).get("port"))
        or find_free_port(props["host"])
    )
    served = decision.served
    outs: dict[str, Any] = {
        **plain(props),
        "decision": decision.as_output(),
        "model_version": served,
        "passed_pipeline_versions": passed,
        "port": port,
    }
    _, pid_file, log_file = _paths(props)
    if served is None:
        stop_process(pid_file)
        outs.update(url=None, pid=None, running=False)
        return outs
    unchanged = (
        olds is not None
        and olds.get("model_version") == served
        and _running({**props, "port": port})
    )
    pid = (olds or {}).get("pid") if unchanged else _serve(props, served, port)
    outs.update(
        url=f"http://{props['host']}:{port}/invocations",
        pid=pid,
        running=True,
        log_file=str(log_file),
    )
    return outs


class _EndpointProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"endpoint-{props['name']}", outs=_reconcile(props, None))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, _INPUTS)
        if olds.get("model_version") and not _running(olds):
            changes.append("running")
        return DiffResult(changes=bool(changes), replaces=[])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_reconcile(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = plain(props)
        if outs.get("model_version"):
            running = _running(props)
            outs["running"] = running
            if not running:
                outs["pid"] = None
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        data_dir, pid_file, _ = _paths(props)
        stop_process(pid_file)
        shutil.rmtree(data_dir / "runtime", ignore_errors=True)


class ModelServer(Resource, module="mlops", name="LocalModelServer"):
    """An ``mlflow models serve`` process for the version the gate allows."""

    url: pulumi.Output[str | None]
    """Invocation URL (``/invocations``), or ``None`` while nothing is served."""

    model_version: pulumi.Output[str | None]
    """Version served."""

    decision: pulumi.Output[dict[str, Any]]
    """The gate's decision and evidence."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the model server ``name``."""
        outputs = {
            "url": None,
            "model_version": None,
            "decision": None,
            "pid": None,
            "port": None,
            "running": None,
            "log_file": None,
            "passed_pipeline_versions": None,
        }
        super().__init__(_EndpointProvider(), name, {**props, **outputs}, opts)


class LocalServingEndpoint(ServingEndpointBackend):
    """Serves the gated model version with ``mlflow models serve`` on loopback."""

    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec
    ) -> EndpointResult:
        """Declares the model server; the gate is evaluated when it is created or updated."""
        options = ctx.options_as(LocalEndpointOptions)
        layout = StackLayout.of(ctx.target.project_dir, ctx.stack_name)
        tracking = ctx.args.tracking
        server = ModelServer(
            ctx.child_name(),
            {
                "name": ctx.name,
                "model": spec.model,
                "alias": spec.alias,
                "pinned_version": str(spec.model_version) if spec.model_version else None,
                "candidate_version": ctx.args.candidate_version,
                "gate": spec.gate.model_dump(mode="json") if spec.gate else None,
                "evidence": ctx.args.evidence,
                "environment": ctx.target.environment,
                "tracking_url": tracking.url,
                "username": tracking.username,
                "password": tracking.password,
                "host": options.host,
                "port_option": options.port,
                "start_timeout_s": options.start_timeout_s,
                "data_dir": str(layout.service("endpoints", ctx.name)),
                "progress_log": str(layout.progress_log),
                "python": sys.executable,
            },
            ctx.opts(additional_secret_outputs=["password"]),
        )
        return EndpointResult(
            url=server.url, model_version=server.model_version, decision=server.decision
        )
