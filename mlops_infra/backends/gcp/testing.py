"""Google Cloud's mocks: the one place its invoke answers and computed outputs are written.

``mlops-infra plan`` uses :class:`GcpMocks` previewed (the descriptor in
:mod:`mlops_infra.backends.gcp.plugin` names it); tests use it applied.

Example::

    from mlops_infra.backends.gcp.testing import GcpMocks
    from mlops_infra.testing import run_stack

    run = run_stack(spec, mocks=GcpMocks(served_version="4"))

Imports no cloud SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_infra.offline import CloudMocks

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

PROJECT = "plan-project"
"""Project id the mocks answer with."""

NUMBER = "123456789012"
"""Project number the mocks answer with (obviously fake)."""

ROLE_SUFFIX = "00000000"
"""The custom role suffix the mocks report (drawn at random at ``pulumi up``; the same
zeros the program falls back on when an offline run echoes no suffix)."""

GCS_AGENT = f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
"""The project's Cloud Storage service agent, as an IAM member."""

DEPLOYER = f"deployer@{PROJECT}.iam.gserviceaccount.com"
"""The identity ``pulumi up`` runs as (applied only)."""

SERVED_SOURCE = "gs://acme-models/mlflow/1/models/m-1/artifacts"
"""Where the model a promotion gate serves lies (applied only)."""

RUN_MODEL_VERSION = "7"
"""The model version a waited-for pipeline run registers (applied only)."""

_DYNAMIC = "pulumi-python:dynamic/mlops:"
_ACCOUNT = "gcp:serviceaccount/account:Account"
_CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"


# Any: Pulumi's mock API passes properties as untyped dicts.
class GcpMocks(CloudMocks):
    """:class:`~mlops_infra.offline.CloudMocks` that answer like Google Cloud.

    Invokes: project, storage service agent, client config, the deployer's identity.
    Previewed: custom role suffixes and names. Applied, also: auto-names, ids, e-mails and
    URLs in GCP's formats, and what the stack's dynamic resources report at ``up``.

    Args:
        region: The stack's region (GCP answers none: locations come from the stack).
        served_version: What the promotion gate decides to serve (``None``: nothing).
        stable_revision: The deployment's stable revision (a canary in progress).
        outputs: Extra outputs per resource type token (merged last).
        calls: Extra invoke results per token.
        applied: Also answer what ``pulumi up`` assigns
            (see :class:`~mlops_infra.offline.CloudMocks`).
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        served_version: str | None = "3",
        stable_revision: str | None = None,
        outputs: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Mapping[str, Any]] | None = None,
        applied: bool = True,
    ) -> None:
        """Creates the mocks."""
        self.served_version = served_version
        self.stable_revision = stable_revision
        super().__init__(region, outputs=outputs, calls=calls, applied=applied)

    def invoke_answers(self) -> Mapping[str, Mapping[str, Any]]:
        """Project, storage agent, client config (and, applied, the deployer), obviously fake."""
        answers: dict[str, Mapping[str, Any]] = {
            "gcp:organizations/getProject:getProject": {
                "number": NUMBER,
                "projectId": PROJECT,
                "name": PROJECT,
            },
            "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
                "emailAddress": GCS_AGENT.removeprefix("serviceAccount:"),
                "project": PROJECT,
            },
            "gcp:organizations/getClientConfig:getClientConfig": {
                "project": PROJECT,
                "region": "us-central1",
                "accessToken": "",
            },
        }
        if self.applied:
            # Who runs ``pulumi up``, and the agent's IAM member, need credentials to know:
            # a plan shows them unknown.
            answers["gcp:organizations/getClientOpenIdUserInfo:getClientOpenIdUserInfo"] = {
                "email": DEPLOYER,
                "id": DEPLOYER,
            }
            answers["gcp:storage/getProjectServiceAccount:getProjectServiceAccount"] = {
                **answers["gcp:storage/getProjectServiceAccount:getProjectServiceAccount"],
                "member": GCS_AGENT,
                "id": PROJECT,
            }
        return answers

    def previewed(self, typ: str, name: str, inputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """A custom role's suffix (drawn at ``pulumi up``) and ``name``, which grants name.

        The name is ``projects/<project>/roles/<role id>``.
        """
        del name  # does not shape these outputs
        if typ == _DYNAMIC + "GcpRoleSuffix":
            return {"value": ROLE_SUFFIX}
        if typ == _CUSTOM_ROLE:
            return {"name": f"projects/{inputs.get('project')}/roles/{inputs.get('roleId')}"}
        return None

    def assigned(  # noqa: PLR0912 - one branch per type, flat on purpose
        self, typ: str, name: str, resource_id: str | None, state: dict[str, Any]
    ) -> str | None:
        """Auto-names, ids and outputs in GCP's formats; dynamic resources' reports."""
        if typ.startswith("gcp:"):
            # Auto-naming: the engine adds a random suffix to the logical name.
            state.setdefault("name", f"{name}-a1b2c3d")
        if typ == _ACCOUNT:
            email = f"{state['accountId']}@{PROJECT}.iam.gserviceaccount.com"
            resource_id = f"projects/{PROJECT}/serviceAccounts/{email}"
            state.update(email=email, member=f"serviceAccount:{email}", name=resource_id)
        elif typ == "gcp:storage/bucket:Bucket":
            resource_id = state["name"]
            state["url"] = f"gs://{resource_id}"
        elif typ == "gcp:kms/keyRing:KeyRing":
            resource_id = f"projects/{PROJECT}/locations/{state['location']}/keyRings/{name}-x1"
        elif typ == "gcp:kms/cryptoKey:CryptoKey":
            resource_id = f"{state['keyRing']}/cryptoKeys/{name}"
        elif typ == "gcp:artifactregistry/repository:Repository":
            state["registryUri"] = (
                f"{state['location']}-docker.pkg.dev/{PROJECT}/{state['repositoryId']}"
            )
        elif typ == "gcp:compute/network:Network":
            resource_id = f"projects/{PROJECT}/global/networks/{state['name']}"
        elif typ == "gcp:compute/subnetwork:Subnetwork":
            resource_id = (
                f"projects/{PROJECT}/regions/{state['region']}/subnetworks/{state['name']}"
            )
        elif typ == "gcp:sql/databaseInstance:DatabaseInstance":
            state["privateIpAddress"] = "10.99.0.3"
        elif typ == "gcp:secretmanager/secret:Secret":
            resource_id = f"projects/{PROJECT}/secrets/{state['secretId']}"
            state["name"] = resource_id
        elif typ == "gcp:secretmanager/secretVersion:SecretVersion":
            state.update(name=f"{state['secret']}/versions/1", version="1")
        elif typ == "gcp:projects/serviceIdentity:ServiceIdentity":
            agent = state["service"].split(".")[0]
            state["member"] = (
                f"serviceAccount:service-{NUMBER}@gcp-sa-{agent}.iam.gserviceaccount.com"
            )
        elif typ == "gcp:cloudrunv2/service:Service":
            state["uri"] = f"https://{state['name']}-{NUMBER}.{state['location']}.run.app"
        elif typ == "gcp:workflows/workflow:Workflow":
            resource_id = (
                f"projects/{PROJECT}/locations/{state['region']}/workflows/{state['name']}"
            )
        elif typ.startswith(_DYNAMIC):
            self._dynamic(typ.removeprefix(_DYNAMIC), name, state)
        return resource_id

    def _dynamic(self, kind: str, name: str, state: dict[str, Any]) -> None:
        """What this backend's dynamic resources report at ``up``."""
        if kind == "GcpGeneratedPassword":
            # Distinct per password, so tests can tell which one a workload received.
            state["value"] = f"generated-{name}"
        elif kind == "PromotionDecision":
            state.update(
                served_version=self.served_version,
                served_source=SERVED_SOURCE if self.served_version else None,
                decision={"outcome": "promoted" if self.served_version else "no-candidate"},
            )
        elif kind == "GcpWorkflowExecution":
            # A waited-for run reports the model version it registered (see _run).
            state["model_version"] = RUN_MODEL_VERSION if state.get("wait") else None
        elif kind == "GcpCloudRunDeployment":
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
