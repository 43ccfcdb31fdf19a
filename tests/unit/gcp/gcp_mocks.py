"""Helpers for the GCP backend's tests; the mocks are the library's (used by plans too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_infra.backends.gcp.plugin import register
from mlops_infra.backends.gcp.testing import (
    DEPLOYER,
    GCS_AGENT,
    NUMBER,
    PROJECT,
    ROLE_SUFFIX,
    RUN_MODEL_VERSION,
    SERVED_SOURCE,
    GcpMocks,
)
from mlops_infra.offline import EchoMocks, ProgramRun
from mlops_infra.registry import Registry
from mlops_infra.testing import run_stack

REPO = Path(__file__).resolve().parents[3]
REGION = "europe-west4"

DYNAMIC = "pulumi-python:dynamic/mlops:"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
SERVICE = "gcp:cloudrunv2/service:Service"
SERVICE_IAM = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_IAM = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
WORKFLOW = "gcp:workflows/workflow:Workflow"
SCHEDULER = "gcp:cloudscheduler/job:Job"
OBJECT = "gcp:storage/bucketObject:BucketObject"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"


def gcp_registry() -> Registry:
    """Returns a registry with only the gcp cloud (other plugins cannot interfere)."""
    registry = Registry(load_entry_points=False)
    registry.install("gcp", register)
    return registry


def base_spec(environment: str = "dev", **extra: Any) -> dict[str, Any]:
    """Returns a minimal gcp stack spec (with a network, which the tracking server needs)."""
    return {
        "cloud": "gcp",
        "environment": environment,
        "region": REGION,
        "network": {"create": True},
        "tags": {"Team": "ML Platform"},
        **extra,
    }


def synth(
    spec: dict[str, Any], *, stack: str = "dev", mocks: EchoMocks | None = None
) -> ProgramRun:
    """Synthesizes ``spec`` under mocks with the gcp-only registry."""
    return run_stack(
        spec,
        registry=gcp_registry(),
        project_dir=REPO,
        stack=stack,
        mocks=mocks or GcpMocks(),
    )


# The library's mocks and constants, re-exported: the tests import them from here.
__all__ = [
    "DEPLOYER",
    "GCS_AGENT",
    "NUMBER",
    "PROJECT",
    "ROLE_SUFFIX",
    "RUN_MODEL_VERSION",
    "SERVED_SOURCE",
    "GcpMocks",
]
