"""Workload users of the Cloud Run tracking server, written before ``mlflow server`` starts.

The tracking container runs this module's source (``python -c``, see
:func:`server_command`): it needs nothing but Python and ``mlflow[auth]``, so it works in
the stack-built image and in ``options.image`` alike, and it needs no deployer access to
the (IAM-protected) service. Each start:

1. creates every workload user in MLflow's auth store, or sets its password to the one in
   its environment variable (the stack's generated password in Secret Manager);
2. grants it ``EDIT`` on every active experiment and registered model: it may create runs,
   log, register model versions and tag them, but neither delete nor change permissions
   (``MANAGE``) (https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/);
3. replaces itself with ``python -m mlflow server <arguments>``.

Why this shape: MLflow 3.11 (the oldest release a stack may run) grants per experiment and
per registered model only, and a user's default is the server-wide ``default_permission``
(``NO_PERMISSIONS`` here); there is no per-user default nor wildcard grant before the
role-based model of later releases. So grants are written for what exists at start, and
MLflow itself gives the creator of an experiment or registered model ``MANAGE`` on it (its
``set_can_manage_*_permission`` after-request handlers): a workload keeps ``MANAGE`` on what
it created itself until the next server start turns it into ``EDIT``.

Uses only the auth store's per-resource API, the same in MLflow 3.11 and 3.17
(``create_user``, ``update_user``, ``get/create/update_experiment_permission``,
``get/create/update_registered_model_permission``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

RUNNER_USER = "runner"
"""MLflow user of training jobs and pipeline steps."""

WORKLOAD_USERS = {RUNNER_USER: "MLOPS_RUNNER_PASSWORD"}
"""Workload user → environment variable holding its password in the tracking container."""

WORKLOAD_PERMISSION = "EDIT"
"""What a workload user holds on every experiment and registered model (never ``MANAGE``)."""

_PAGE = 1000


def _every(search: Callable[..., Any]) -> Iterator[Any]:
    """Every item a paged MLflow search returns (``search_experiments``, ...)."""
    token = None
    while True:
        page = search(max_results=_PAGE, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _set_permission(
    get: Callable[[str, str], Any],
    create: Callable[[str, str, str], Any],
    update: Callable[[str, str, str], Any],
    resource: str,
    username: str,
) -> None:
    """Makes ``username``'s permission on ``resource`` exactly :data:`WORKLOAD_PERMISSION`."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - container side

    try:
        current = str(get(resource, username).permission)
    except MlflowException:
        try:
            create(resource, username, WORKLOAD_PERMISSION)
        except MlflowException:
            # Another instance starting at the same time wrote it first.
            update(resource, username, WORKLOAD_PERMISSION)
        return
    if current != WORKLOAD_PERMISSION:
        update(resource, username, WORKLOAD_PERMISSION)


def _upsert_user(store: Any, username: str, password: str) -> None:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415 - container side

    if store.has_user(username):
        store.update_user(username, password=password)
        return
    try:
        store.create_user(username, password)
    except MlflowException:
        # Created by another instance starting at the same time.
        store.update_user(username, password=password)


def bootstrap(passwords: Mapping[str, str], *, auth_database_uri: str, tracking_uri: str) -> None:
    """Creates or updates the workload users and grants each ``EDIT`` on what exists.

    Args:
        passwords: Workload user → its password.
        auth_database_uri: MLflow's auth store (``database_uri`` of the auth config).
        tracking_uri: The backend store the server runs on (a database URI).
    """
    from mlflow import MlflowClient  # noqa: PLC0415 - container side
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore  # noqa: PLC0415

    store: Any = SqlAlchemyStore()
    store.init_db(auth_database_uri)
    client: Any = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiments = [str(e.experiment_id) for e in _every(client.search_experiments)]
    models = [str(m.name) for m in _every(client.search_registered_models)]
    for username, password in passwords.items():
        _upsert_user(store, username, password)
        for experiment_id in experiments:
            _set_permission(
                store.get_experiment_permission,
                store.create_experiment_permission,
                store.update_experiment_permission,
                experiment_id,
                username,
            )
        for name in models:
            _set_permission(
                store.get_registered_model_permission,
                store.create_registered_model_permission,
                store.update_registered_model_permission,
                name,
                username,
            )


def _passwords(environ: Mapping[str, str]) -> dict[str, str]:
    missing = [variable for variable in WORKLOAD_USERS.values() if not environ.get(variable)]
    if missing:
        msg = f"workload user passwords missing from the environment: {', '.join(missing)}"
        raise SystemExit(msg)
    return {user: environ[variable] for user, variable in WORKLOAD_USERS.items()}


def main(argv: list[str]) -> None:
    """Writes the workload users, then runs ``mlflow server`` with ``argv`` in this process."""
    from mlflow.server.auth.config import read_auth_config  # noqa: PLC0415 - container side

    bootstrap(
        _passwords(os.environ),
        auth_database_uri=read_auth_config().database_uri,
        tracking_uri=os.environ["MLFLOW_BACKEND_STORE_URI"],
    )
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "mlflow", "server", *argv])  # noqa: S606 - the server itself


def server_command() -> list[str]:
    """The container command: this module's source run by ``python -c``; then its arguments.

    The source travels in the service definition: the image needs no copy of mlops-infra.
    """
    from pathlib import Path  # noqa: PLC0415

    return ["python", "-c", Path(__file__).read_text(encoding="utf-8")]


if __name__ == "__main__":
    main(sys.argv[1:])
