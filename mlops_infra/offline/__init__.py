"""Running Pulumi programs offline (under mocks) and recording what they register."""

from mlops_infra.offline.cloud_mocks import CloudMocks
from mlops_infra.offline.runner import (
    MOCK_ARN_PREFIX,
    EchoMocks,
    ProgramRun,
    RecordingMonitor,
    Registration,
    is_secret,
    run_offline,
    unwrap_secrets,
)

__all__ = [
    "MOCK_ARN_PREFIX",
    "CloudMocks",
    "EchoMocks",
    "ProgramRun",
    "RecordingMonitor",
    "Registration",
    "is_secret",
    "run_offline",
    "unwrap_secrets",
]
