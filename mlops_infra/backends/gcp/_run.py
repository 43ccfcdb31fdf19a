"""``<pipeline>-run``: exactly one Workflows execution per pipeline version, started at ``up``.

pulumi_gcp cannot start an execution, so :class:`PipelineRun` is a dynamic resource
calling the Workflow Executions API. It is keyed by the pipeline version (a new version
replaces it: one new execution), and it is idempotent across crashes: every execution it
starts carries the label ``mlops-version=<version>``, and ``create`` first lists the
workflow's executions with that label and adopts the newest instead of starting another.
So killing ``pulumi up`` after the execution was started (before Pulumi recorded it),
then ``refresh`` + ``up``, starts no second execution of the same version.

With ``wait``, ``create`` polls the execution (a progress line on stderr every poll, which
the engine shows) until it ends or ``timeout_s`` passes, then looks up the model version
the execution registered in MLflow (the version tagged ``mlops.workflow_execution`` with
the execution id by the steps' container entry module) and returns it as
``model_version``, which the stack feeds to the endpoint's gate in the same ``up``. A run
that fails is recorded (``state``, ``error``) without failing ``up``: the gate then
decides on what the registry holds; ``pulumi up --replace <urn>`` runs the version again.
A run still going at the timeout fails ``up``; it keeps running, and the next ``up``
adopts and waits for it.

REST reference:
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/list
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/get
https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/cancel
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, cast

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.backends.gcp._naming import label_value
from mlops_infra.backends.gcp.container_entry import EXECUTION_TAG
from mlops_infra.dynamic_provider import EngineBoundProvider
from mlops_infra.gates.registry_client import client_environment

__all__ = [
    "API",
    "EXECUTION_TAG",
    "VERSION_LABEL",
    "PipelineRun",
    "find_model_version",
    "use_tracking_auth",
]

API = "https://workflowexecutions.googleapis.com/v1"
"""Workflow Executions API root."""

VERSION_LABEL = "mlops-version"
"""Execution label carrying the pipeline version (what ``create`` adopts by)."""

_ACTIVE = ("ACTIVE", "QUEUED")
_POLL_S = 30.0
_KEYS = ("workflow", "version")


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


def use_tracking_auth(props: Mapping[str, Any]) -> None:
    """Sets the environment MLflow needs to reach the tracking server from this process.

    Basic auth from ``username``/``password``, then the variables the ``client_auth`` hook
    (``"package.module:function"``, see :mod:`.mlflow_auth`) returns for ``tracking_url``.
    """
    if props.get("username") and props.get("password"):
        os.environ["MLFLOW_TRACKING_USERNAME"] = str(props["username"])
        os.environ["MLFLOW_TRACKING_PASSWORD"] = str(props["password"])
    os.environ.update(client_environment(props.get("client_auth"), str(props["tracking_url"])))


def find_model_version(tracking_url: str, model: str, execution_id: str) -> str | None:
    """Returns the version of ``model`` registered by execution ``execution_id``, if any."""
    from mlflow import MlflowClient  # noqa: PLC0415 - heavy; provider side only

    client: Any = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)
    found: list[Any] = client.search_model_versions(
        f"name = '{model}' AND tags.`{EXECUTION_TAG}` = '{execution_id}'",
        order_by=["version_number DESC"],
        max_results=1,
    )
    return str(found[0].version) if found else None


def _start_or_adopt(workflow: str, version: str) -> dict[str, Any]:
    from mlops_infra.backends.gcp._api import call, progress  # noqa: PLC0415 - provider side

    label = label_value(version)
    listed = call(
        "GET",
        f"{API}/{workflow}/executions",
        params={"filter": f'labels.{VERSION_LABEL}="{label}"', "pageSize": "10"},
    )
    mine = [
        e
        for e in cast(list[dict[str, Any]], listed.get("executions") or [])
        if cast(dict[str, str], e.get("labels") or {}).get(VERSION_LABEL) == label
    ]
    if mine:
        # Newest first (the documented default order): a run started before a crash.
        progress(f"{workflow}: adopting execution {mine[0]['name']} of version {version}")
        return mine[0]
    execution = call(
        "POST",
        f"{API}/{workflow}/executions",
        {"argument": "{}", "labels": {VERSION_LABEL: label}},
    )
    progress(f"{workflow}: started execution {execution['name']} of version {version}")
    return execution


def _wait(execution: dict[str, Any], timeout_s: float, poll_s: float) -> dict[str, Any]:
    from mlops_infra.backends.gcp._api import call, progress  # noqa: PLC0415

    name = str(execution["name"])
    started = time.monotonic()
    current = execution
    while current.get("state") in _ACTIVE or current.get("state") is None:
        elapsed = time.monotonic() - started
        if elapsed > timeout_s:
            msg = (
                f"execution {name} still {current.get('state')} after {timeout_s:.0f}s "
                "(run_timeout_s); it keeps running and the next `pulumi up` waits for it again"
            )
            raise TimeoutError(msg)
        progress(f"{name}: {current.get('state') or 'STARTING'} for {elapsed:.0f}s")
        time.sleep(poll_s)
        current = call("GET", f"{API}/{name}")
    progress(f"{name}: {current.get('state')}")
    return current


def _run(props: Mapping[str, Any]) -> dict[str, Any]:
    execution = _start_or_adopt(str(props["workflow"]), str(props["version"]))
    outs = {
        **_plain(props),
        "execution_name": execution["name"],
        "state": execution.get("state"),
        "error": None,
        "model_version": None,
    }
    if not props.get("wait"):
        return outs
    timeout_s = props.get("timeout_s")
    ended = _wait(execution, 7200.0 if timeout_s is None else float(timeout_s), _POLL_S)
    outs["state"] = ended.get("state")
    if ended.get("state") != "SUCCEEDED":
        error = cast(dict[str, Any], ended.get("error") or {})
        outs["error"] = str(error.get("payload") or error.get("context") or ended.get("state"))
        from mlops_infra.backends.gcp._api import progress  # noqa: PLC0415

        progress(f"{execution['name']} did not succeed: {outs['error']}")
        return outs
    use_tracking_auth(props)
    execution_id = str(execution["name"]).rsplit("/", 1)[-1]
    outs["model_version"] = find_model_version(
        str(props["tracking_url"]), str(props["model"]), execution_id
    )
    return outs


class _RunProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = _run(props)
        return CreateResult(id_=str(outs["execution_name"]), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in _KEYS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Only settings that do not start a run changed (wait, timeout, tracking access).
        kept = {k: olds.get(k) for k in ("execution_name", "state", "error", "model_version")}
        return UpdateResult(outs={**_plain(news), **kept})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from mlops_infra.backends.gcp._api import RestError, call  # noqa: PLC0415

        try:
            execution = call("GET", f"{API}/{id_}")
        except RestError as error:
            if error.status == 404:
                # Execution history expired (Workflows keeps it for a limited time): keep it.
                return ReadResult(id_, _plain(props))
            raise
        outs = _plain(props)
        outs["state"] = execution.get("state")
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from mlops_infra.backends.gcp._api import RestError, call  # noqa: PLC0415

        del props
        try:
            if call("GET", f"{API}/{id_}").get("state") in _ACTIVE:
                call("POST", f"{API}/{id_}:cancel")
        except RestError as error:
            if error.status not in (400, 404):
                raise


class PipelineRun(Resource, module="mlops", name="GcpWorkflowExecution"):
    """The execution of one pipeline version, started (or adopted) at ``pulumi up``.

    Its type keeps the name of the resource it replaces, so existing stacks keep their run.
    """

    execution_name: pulumi.Output[str]
    """Resource name of the execution."""

    state: pulumi.Output[str | None]
    """Execution state when last read (``SUCCEEDED``, ``FAILED``, ``ACTIVE``...)."""

    error: pulumi.Output[str | None]
    """Why the execution failed, when it did and ``up`` waited for it."""

    model_version: pulumi.Output[str | None]
    """Model version the execution registered (only when ``up`` waited for it)."""

    def __init__(
        self,
        name: str,
        *,
        workflow: pulumi.Input[str],
        version: str,
        wait: bool,
        timeout_s: int,
        tracking_url: pulumi.Input[str],
        model: str,
        username: pulumi.Input[str | None] = None,
        password: pulumi.Input[str | None] = None,
        client_auth: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the run ``name`` of ``workflow`` for pipeline ``version``."""
        props = {
            "workflow": workflow,
            "version": version,
            "wait": wait,
            "timeout_s": timeout_s,
            "tracking_url": tracking_url,
            "model": model,
            "username": username,
            "password": password,
            "client_auth": client_auth,
            "execution_name": None,
            "state": None,
            "error": None,
            "model_version": None,
        }
        super().__init__(
            _RunProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
            ),
        )
