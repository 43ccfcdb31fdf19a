"""Test your stacks without a cloud: offline runs under mocks and an in-memory fake cloud.

Example::

    from mlops_infra.testing import fake_registry, run_stack

    def test_my_stack():
        run = run_stack({"cloud": "fake", "environment": "prod"}, registry=fake_registry())
        bucket = run.one("fake:index:Bucket", "mlops-store")
        assert bucket.protect
        assert run.inputs("fake:index:Bucket", "mlops-store")["versioning"] is True

A run's lookups: ``run.one(type, name)`` (the registration, with its resource options),
``run.inputs(type, name)`` (its inputs, secrets unwrapped; ``parse_json=True`` also parses
JSON documents held in strings) and ``run.names(type)``.

:class:`EngineHarness` drives the real ``pulumi`` engine on a copy of a project (preview,
up, refresh, destroy) for integration tests.
"""

from mlops_infra.offline import CloudMocks, EchoMocks, ProgramRun, Registration, run_offline
from mlops_infra.testing.engine import EngineHarness, LifecycleError, LifecycleReport
from mlops_infra.testing.fake import FAKE_CLOUD, FakeResource, fake_registry
from mlops_infra.testing.stacks import run_stack

__all__ = [
    "FAKE_CLOUD",
    "CloudMocks",
    "EchoMocks",
    "EngineHarness",
    "FakeResource",
    "LifecycleError",
    "LifecycleReport",
    "ProgramRun",
    "Registration",
    "fake_registry",
    "run_offline",
    "run_stack",
]
