"""Fixtures every unit test gets."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _process_environment_restored() -> Iterator[None]:
    """Undoes what a test's code wrote into ``os.environ``.

    ``RegistryClient`` exports its auth hook's variables into the process environment, as
    MLflow and its auth plugins read them from there (one provider process per stack); a
    SigV4 switch left behind by an AWS test would sign the next test's requests.
    """
    saved = dict(os.environ)
    yield
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
