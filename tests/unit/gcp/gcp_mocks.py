"""Mocks and helpers for the GCP backend's tests: realistic ids and computed outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.backends.gcp.plugin import register
from mlops_infra.offline import EchoMocks, ProgramRun, Registration
from mlops_infra.registry import Registry
from mlops_infra.testing import run_stack

REPO = Path(__file__).resolve().parents[3]
PROJECT = "acme-ml"
NUMBER = "424242"
REGION = "europe-west4"
GCS_AGENT = f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
SERVED_SOURCE = "gs://acme-models/mlflow/1/models/m-1/artifacts"
RUN_MODEL_VERSION = "7"

DEPLOYER = f"deployer@{PROJECT}.iam.gserviceaccount.com"

CALLS: dict[str, dict[str, Any]] = {
    "gcp:organizations/getClientOpenIdUserInfo:getClientOpenIdUserInfo": {
        "email": DEPLOYER,
        "id": DEPLOYER,
    },
    "gcp:organizations/getProject:getProject": {
        "number": NUMBER,
        "projectId": PROJECT,
        "name": PROJECT,
    },
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
        "emailAddress": GCS_AGENT.removeprefix("serviceAccount:"),
        "member": GCS_AGENT,
        "id": PROJECT,
    },
}

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
ROLE_SUFFIX = "1a2b3c4d"


class GcpMocks(EchoMocks):
    """Echo mocks that also fill the outputs GCP computes and the program reads back.

    Args:
        served_version: What the promotion gate decides to serve (``None``: nothing).
        stable_revision: The deployment's stable revision (a canary in progress).
    """

    def __init__(
        self, served_version: str | None = "3", stable_revision: str | None = None
    ) -> None:
        """Creates the mocks."""
        super().__init__(calls=CALLS)
        self.served_version = served_version
        self.stable_revision = stable_revision

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Echoes inputs and adds ids and outputs in GCP's formats."""
        resource_id, state = super().new_resource(args)
        typ, name = args.typ, args.name
        if typ.startswith("gcp:"):
            # Auto-naming: the engine adds a random suffix to the logical name.
            state.setdefault("name", f"{name}-a1b2c3d")
        if typ == ACCOUNT:
            email = f"{state['accountId']}@{PROJECT}.iam.gserviceaccount.com"
            resource_id = f"projects/{PROJECT}/serviceAccounts/{email}"
            state.update(email=email, member=f"serviceAccount:{email}", name=resource_id)
        elif typ == BUCKET:
            resource_id = state["name"]
            state["url"] = f"gs://{resource_id}"
        elif typ == "gcp:kms/keyRing:KeyRing":
            resource_id = f"projects/{PROJECT}/locations/{state['location']}/keyRings/{name}-x1"
        elif typ == KEY:
            resource_id = f"{state['keyRing']}/cryptoKeys/{name}"
        elif typ == REPOSITORY:
            state["registryUri"] = (
                f"{state['location']}-docker.pkg.dev/{PROJECT}/{state['repositoryId']}"
            )
        elif typ == "gcp:compute/network:Network":
            resource_id = f"projects/{PROJECT}/global/networks/{state['name']}"
        elif typ == "gcp:compute/subnetwork:Subnetwork":
            resource_id = (
                f"projects/{PROJECT}/regions/{state['region']}/subnetworks/{state['name']}"
            )
        elif typ == SQL:
            state["privateIpAddress"] = "10.99.0.3"
        elif typ == SECRET:
            resource_id = f"projects/{PROJECT}/secrets/{state['secretId']}"
            state["name"] = resource_id
        elif typ == SECRET_VERSION:
            state.update(name=f"{state['secret']}/versions/1", version="1")
        elif typ == "gcp:projects/serviceIdentity:ServiceIdentity":
            agent = state["service"].split(".")[0]
            state["member"] = (
                f"serviceAccount:service-{NUMBER}@gcp-sa-{agent}.iam.gserviceaccount.com"
            )
        elif typ == SERVICE:
            state["uri"] = f"https://{state['name']}-{NUMBER}.{state['location']}.run.app"
        elif typ == WORKFLOW:
            resource_id = (
                f"projects/{PROJECT}/locations/{state['region']}/workflows/{state['name']}"
            )
        elif typ == CUSTOM_ROLE:
            state["name"] = f"projects/{state['project']}/roles/{state['roleId']}"
        elif typ == DYNAMIC + "GcpRoleSuffix":
            state["value"] = ROLE_SUFFIX
        elif typ == DYNAMIC + "GcpGeneratedPassword":
            # Distinct per password, so tests can tell which one a workload received.
            state["value"] = f"generated-{name}"
        elif typ == DYNAMIC + "PromotionDecision":
            state.update(
                served_version=self.served_version,
                served_source=SERVED_SOURCE if self.served_version else None,
                decision={"outcome": "promoted" if self.served_version else "no-candidate"},
            )
        elif typ == DYNAMIC + "GcpWorkflowExecution":
            # A waited-for run reports the model version it registered (see _run).
            state["model_version"] = RUN_MODEL_VERSION if state.get("wait") else None
        elif typ == DYNAMIC + "GcpCloudRunDeployment":
            # What the provider returns once Cloud Run confirms the revision (see _deployment).
            version = state.get("version")
            state.update(
                deployed_version=version,
                uri=f"https://{state['service']}-{NUMBER}.{state['region']}.run.app"
                if version
                else None,
                revision=f"{state['service']}-00002" if version else None,
                stable_revision=self.stable_revision,
            )
        return resource_id, state


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


def one(run: ProgramRun, type_token: str, name: str) -> Registration:
    """Returns the single registration of ``type_token`` named ``name``."""
    found = [r for r in run.of_type(type_token) if r.name == name]
    names = sorted(r.name for r in run.of_type(type_token))
    assert len(found) == 1, f"{len(found)} {type_token} named {name!r}; have {names}"
    return found[0]


def names(run: ProgramRun, type_token: str) -> list[str]:
    """Returns the sorted names of the registrations of ``type_token``."""
    return sorted(r.name for r in run.of_type(type_token))


def inputs(run: ProgramRun, type_token: str, name: str) -> dict[str, Any]:
    """Returns the plain (secrets unwrapped) inputs of one registration."""
    return one(run, type_token, name).plain_inputs()
