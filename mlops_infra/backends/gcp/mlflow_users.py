"""One MLflow user per workload of the Cloud Run tracking server, created by ``pulumi up``.

Each training job and pipeline gets :class:`MlflowWorkloadUser`: a dynamic resource the
deployer's ``pulumi up`` runs as MLflow's admin (the credentials and the Cloud Run ID-token
hook the promotion gate uses, see :mod:`.mlflow_auth`). Its create, idempotent:

1. creates the user ``wl-<kind>-<name>`` (:func:`workload_username`) with its generated
   password, or sets the password when the user exists;
2. creates the workload's experiment (the job's or pipeline's name, the one the step
   entrypoint logs to) and its registered model, unless they exist;
3. grants the user ``EDIT`` on exactly those two, or updates the grant it holds (a
   ``MANAGE`` becomes ``EDIT``). ``EDIT`` reads and writes runs, registers versions and
   tags them; deleting and changing permissions need ``MANAGE``.

Deleting the resource deletes the user (the experiment and the model, which hold the
workload's history, stay). MLflow's permission model and REST endpoints:
https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/.

Endpoints (checked against ``mlflow/server/auth/routes.py`` of MLflow 3.11.1 and 3.17.2):

* ``POST /api/2.0/mlflow/users/create``, ``PATCH .../users/update-password``,
  ``DELETE .../users/delete``: both releases;
* ``POST /api/2.0/mlflow/experiments/permissions/create``, ``PATCH .../update`` and the
  ``registered-models/permissions/...`` pair: MLflow 3.11 (the default image). Later
  releases replaced the per-resource tables with roles and dropped these routes (404);
  there the grant goes to ``POST /api/3.0/mlflow/users/permissions/grant`` (``revoke``
  first when a grant exists), which writes the same per-user grant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, cast

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from mlops_infra.dynamic_provider import EngineBoundProvider

__all__ = [
    "USER_PREFIX",
    "WORKLOAD_PERMISSION",
    "MlflowError",
    "MlflowWorkloadUser",
    "delete_workload_user",
    "ensure_workload_user",
    "workload_username",
]

USER_PREFIX = "wl-"
"""Prefix of every workload user (never ``admin``, nor an operator's own user)."""

WORKLOAD_PERMISSION = "EDIT"
"""What a workload user holds on its experiment and registered model (never ``MANAGE``)."""

_USERNAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_MAX_USERNAME = 255  # MLflow's users.username column
_EXISTS = "RESOURCE_ALREADY_EXISTS"
_MISSING = "RESOURCE_DOES_NOT_EXIST"
_REPLACING = ("username", "tracking_url", "experiment", "model")
_SECRETS = ("password", "admin_password")


def workload_username(kind: Literal["job", "pipeline"], name: str) -> str:
    """The MLflow user of job or pipeline ``name``: ``wl-<kind>-<name>``.

    The kind is part of it: a job and a pipeline may share a name. MLflow asks only for a
    non-empty name of at most 255 characters (``users.username``); basic auth forbids
    ``:`` (RFC 7617). This keeps to lower-case letters, digits and ``-``.

    Raises:
        ValueError: ``name`` gives a user name outside those rules.
    """
    username = f"{USER_PREFIX}{kind}-{name}"
    if not _USERNAME.fullmatch(username) or len(username) > _MAX_USERNAME:
        msg = (
            f"MLflow workload user {username!r} of {kind} {name!r} is not allowed; allowed: "
            f"lower-case letters, digits and '-', ending in a letter or digit, at most "
            f"{_MAX_USERNAME} characters"
        )
        raise ValueError(msg)
    return username


class MlflowError(Exception):
    """An MLflow REST call answered with an error.

    Attributes:
        status: The HTTP status.
        error_code: MLflow's ``error_code`` (``RESOURCE_ALREADY_EXISTS``...), ``None`` when
            the answer is not MLflow's (an unknown route, Cloud Run's own 403).
    """

    def __init__(self, call: str, status: int, error_code: str | None, text: str) -> None:
        """Records the failed ``call``."""
        super().__init__(f"MLflow {call} answered {status} {error_code or ''}: {text[:500]}")
        self.status = status
        self.error_code = error_code


class _AdminApi:
    """MLflow's REST API as the admin, with the ``client_auth`` hook's headers (ID token)."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        import os  # noqa: PLC0415 - provider side

        from mlflow.utils.rest_utils import MlflowHostCreds  # noqa: PLC0415 - heavy

        from mlops_infra.gates.registry_client import client_environment  # noqa: PLC0415

        url = str(props["tracking_url"])
        extra = client_environment(props.get("client_auth"), url)
        # The hook's token reaches MLflow's auth provider through the environment (as for
        # the gate); the basic-auth admin stays in this client, not in the process.
        os.environ.update(extra)
        self._creds: Any = MlflowHostCreds(
            url,
            username=str(props["admin_username"]),
            password=str(props["admin_password"]),
            auth=extra.get("MLFLOW_TRACKING_AUTH"),
        )

    def call(
        self, method: str, path: str, body: Mapping[str, Any], *, version: str = "2.0"
    ) -> dict[str, Any]:
        from mlflow.utils import rest_utils  # noqa: PLC0415

        # MLflow's own client call: retries on 429/5xx (a Cloud Run instance starting),
        # basic auth and the request-auth provider's headers together.
        request = cast(Any, rest_utils.http_request)  # pyright: ignore[reportUnknownMemberType]
        endpoint = f"/api/{version}/mlflow/{path}"
        arguments = {"params": dict(body)} if method == "GET" else {"json": dict(body)}
        response: Any = request(self._creds, endpoint, method, **arguments)
        if response.status_code == 200:
            return dict(response.json() or {}) if response.content else {}
        try:
            code = response.json().get("error_code")
        except ValueError:
            code = None
        raise MlflowError(f"{method} {endpoint}", response.status_code, code, response.text)


def _upsert_user(api: _AdminApi, username: str, password: str) -> None:
    try:
        api.call("POST", "users/create", {"username": username, "password": password})
    except MlflowError as error:
        if error.error_code != _EXISTS:
            raise
        api.call("PATCH", "users/update-password", {"username": username, "password": password})


def _experiment_id(api: _AdminApi, name: str) -> str:
    """The id of experiment ``name``, created (or restored from deletion) when needed."""
    try:
        found = api.call("GET", "experiments/get-by-name", {"experiment_name": name})
    except MlflowError as error:
        if error.error_code != _MISSING:
            raise
        try:
            return str(api.call("POST", "experiments/create", {"name": name})["experiment_id"])
        except MlflowError as lost:
            if lost.error_code != _EXISTS:
                raise
            found = api.call("GET", "experiments/get-by-name", {"experiment_name": name})
    experiment = found["experiment"]
    if experiment.get("lifecycle_stage") == "deleted":
        # The entrypoint finds it by name and could not log to a deleted experiment.
        api.call("POST", "experiments/restore", {"experiment_id": experiment["experiment_id"]})
    return str(experiment["experiment_id"])


def _ensure_model(api: _AdminApi, name: str) -> None:
    try:
        api.call("POST", "registered-models/create", {"name": name})
    except MlflowError as error:
        if error.error_code != _EXISTS:
            raise


def _grant(
    api: _AdminApi, kind: Literal["experiment", "registered_model"], key: str, user: str
) -> None:
    """Makes ``user``'s permission on one experiment or model exactly ``EDIT``."""
    legacy = (
        ("experiments/permissions", "experiment_id")
        if kind == "experiment"
        else ("registered-models/permissions", "name")
    )
    body = {legacy[1]: key, "username": user, "permission": WORKLOAD_PERMISSION}
    try:
        api.call("POST", f"{legacy[0]}/create", body)
    except MlflowError as error:
        if error.error_code == _EXISTS:
            api.call("PATCH", f"{legacy[0]}/update", body)
            return
        if not _no_route(error):
            raise
        # No such route: MLflow's role model (after 3.11) keeps per-user grants instead.
        _grant_role(api, kind, key, user)


def _grant_role(api: _AdminApi, kind: str, key: str, user: str) -> None:
    target = {"username": user, "resource_type": kind, "resource_id": key}
    grant = {**target, "permission": WORKLOAD_PERMISSION}
    try:
        api.call("POST", "users/permissions/grant", grant, version="3.0")
    except MlflowError as error:
        if error.error_code != _EXISTS:
            raise
        api.call("POST", "users/permissions/revoke", target, version="3.0")
        api.call("POST", "users/permissions/grant", grant, version="3.0")


def ensure_workload_user(props: Mapping[str, Any]) -> dict[str, Any]:
    """What create and update do: the user, its experiment and model, ``EDIT`` on both.

    ``props`` holds ``tracking_url``, ``admin_username``, ``admin_password``,
    ``client_auth``, ``username``, ``password``, ``experiment`` and ``model``. Returns
    them with ``experiment_id``. Idempotent: run again, it changes nothing but the
    password and a grant that is not ``EDIT``.
    """
    api = _AdminApi(props)
    username = str(props["username"])
    _upsert_user(api, username, str(props["password"]))
    experiment_id = _experiment_id(api, str(props["experiment"]))
    _ensure_model(api, str(props["model"]))
    _grant(api, "experiment", experiment_id, username)
    _grant(api, "registered_model", str(props["model"]), username)
    return {**_plain(props), "experiment_id": experiment_id}


def delete_workload_user(props: Mapping[str, Any]) -> None:
    """Deletes the workload's user and its grants; a user already gone is fine.

    MLflow 3.11 refuses to delete a user who holds per-resource permissions (its
    ``*_permissions.user_id`` columns are ``NOT NULL``): they are deleted first, every one
    ``users/get`` lists (the two grants, and what the user created itself). Later releases
    list none there and delete a user's grants with it.
    """
    api = _AdminApi(props)
    username = str(props["username"])
    try:
        user = api.call("GET", "users/get", {"username": username})["user"]
    except MlflowError as error:
        if error.error_code == _MISSING:
            return
        raise
    experiments: list[dict[str, Any]] = user.get("experiment_permissions") or []
    models: list[dict[str, Any]] = user.get("registered_model_permissions") or []
    grants = [
        ("experiments/permissions/delete", {"experiment_id": p["experiment_id"]})
        for p in experiments
    ] + [("registered-models/permissions/delete", {"name": p["name"]}) for p in models]
    for path, key in grants:
        try:
            api.call("DELETE", path, {**key, "username": username})
        except MlflowError as error:
            if error.error_code != _MISSING and not _no_route(error):
                raise
    try:
        api.call("DELETE", "users/delete", {"username": username})
    except MlflowError as error:
        if error.error_code != _MISSING:
            raise


def _no_route(error: MlflowError) -> bool:
    """The server has no such route (a 404 that is not MLflow's "does not exist")."""
    return error.status == 404 and error.error_code is None


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


class _WorkloadUserProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = ensure_workload_user(props)
        return CreateResult(id_=f"mlflow-user-{props['username']}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = (*_REPLACING, *_SECRETS, "admin_username", "client_auth")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in _REPLACING]
        # The same user name: the old user must go before the new one is written.
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        del olds
        return UpdateResult(outs=ensure_workload_user(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, _plain(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        delete_workload_user(props)


class MlflowWorkloadUser(Resource, module="mlops", name="GcpMlflowWorkloadUser"):
    """A workload's own MLflow user with ``EDIT`` on its experiment and registered model."""

    username: pulumi.Output[str]
    """The user (``wl-<kind>-<name>``)."""

    experiment_id: pulumi.Output[str]
    """Id of the workload's experiment."""

    def __init__(
        self,
        name: str,
        *,
        tracking_url: pulumi.Input[str],
        admin_username: pulumi.Input[str],
        admin_password: pulumi.Input[str],
        client_auth: str | None,
        username: str,
        password: pulumi.Input[str],
        experiment: str,
        model: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declares the user ``username`` of one workload, written at ``up`` as the admin.

        Args:
            name: Resource name.
            tracking_url: The tracking server.
            admin_username: MLflow's admin (the deployer's).
            admin_password: Its password (a secret).
            client_auth: The tracking server's client-auth hook (``TrackingRef.client_auth``).
            username: The workload's user (:func:`workload_username`).
            password: Its password (a secret).
            experiment: The experiment the workload logs to.
            model: The registered model it registers versions of.
            opts: Resource options.
        """
        props: dict[str, Any] = {
            "tracking_url": tracking_url,
            "admin_username": admin_username,
            "admin_password": admin_password,
            "client_auth": client_auth,
            "username": username,
            "password": password,
            "experiment": experiment,
            "model": model,
            "experiment_id": None,
        }
        options = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=list(_SECRETS))
        )
        super().__init__(_WorkloadUserProvider(), name, props, options)
