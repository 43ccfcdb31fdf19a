"""GCP foundation: the project's APIs, a VPC network, Artifact Registry and the stack's key.

* APIs: a fresh project has none of the services the backends call on, and its first
  resources fail with ``SERVICE_DISABLED``. The foundation enables :data:`REQUIRED_APIS`
  (``<name>-api-<service>``, never disabled on destroy: other workloads of the project may
  use them) and every resource of the stack waits for them
  (:attr:`~mlops_infra.resources.FoundationRef.prerequisites`). Enabling needs the Service
  Usage API and ``serviceusage.services.enable`` on the project
  (https://cloud.google.com/service-usage/docs/enable-disable).
* Network: ``network.create`` builds a VPC with a private subnet, Cloud NAT and
  Private Service Access (Cloud SQL private IP, Vertex AI peering; two ranges sized by
  ``network.options``, see :class:`~mlops_infra.backends.gcp.options.GcpNetworkOptions`);
  ``network.existing`` adopts one (Private Service Access must already be connected
  there); neither leaves workloads
  on Google's serverless network (a Cloud SQL tracking server then cannot be built).
* Artifact Registry: a Docker repository (CMEK) with immutable tags, vulnerability
  scanning and a cleanup policy keeping the newest ``keep_images`` versions.
* KMS: a key ring and a rotated key in the stack's region (unless ``secrets.encryption_key``
  names one) encrypting the secrets, the registry and, by default, the artifact store.
  Secret Manager's and Artifact Registry's service agents are allowed to use it.
"""

from __future__ import annotations

import dataclasses

import pulumi
from pulumi_gcp import artifactregistry, kms, projects

from mlops_infra.backends.gcp._naming import gcp_labels, physical_name
from mlops_infra.backends.gcp._scope import AnyContext, project_id, region_of
from mlops_infra.resources import BuildContext, FoundationArgs, FoundationBackend, FoundationRef

__all__ = [
    "KEY_ROTATION_S",
    "REQUIRED_APIS",
    "GcpFoundation",
    "create_key",
    "enable_apis",
    "grant_agent",
]

KEY_ROTATION_S = 90 * 86400
"""Rotation period of the keys the stack creates."""

REQUIRED_APIS = (
    "aiplatform",  # Vertex AI custom jobs (training, pipeline steps)
    "artifactregistry",  # the stack's image repository
    "cloudbuild",  # images the stack builds (runtime, MLflow server)
    "cloudkms",  # the stack's key
    "cloudresourcemanager",  # project-level IAM members
    "cloudscheduler",  # pipeline schedules
    "compute",  # VPC network, subnets, Cloud NAT
    "iam",  # service accounts
    "iamcredentials",  # ID tokens for the tracking server (the gate, the steps)
    "run",  # Cloud Run tracking server and serving
    "secretmanager",  # generated passwords
    "servicenetworking",  # Private Service Access (Cloud SQL private IP)
    "sqladmin",  # Cloud SQL tracking database
    "storage",  # the artifact store
    "workflows",  # pipeline runs
    "workflowexecutions",  # starting a pipeline run at up
)
"""Services (``<name>.googleapis.com``) the GCP backends call on."""

_ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def enable_apis(ctx: AnyContext) -> tuple[projects.Service, ...]:
    """Enables :data:`REQUIRED_APIS` in the stack's project; never disables them on destroy."""
    return tuple(
        projects.Service(
            ctx.child_name(f"api-{api}"),
            project=project_id(),
            service=f"{api}.googleapis.com",
            disable_on_destroy=False,
            disable_dependent_services=False,
            opts=ctx.opts(),
        )
        for api in REQUIRED_APIS
    )


_UNTAGGED_GRACE_S = 86400


def create_key(ctx: AnyContext, role: str, region: str) -> kms.CryptoKey:
    """Creates a key ring ``<name>-<role>-ring`` and its key ``<name>-<role>`` (rotated).

    Key rings and keys cannot be deleted in GCP: both are stateful; the ring is
    auto-named, so a stack recreated after ``destroy`` gets a new one rather than a
    name clash.
    """
    ring = kms.KeyRing(
        ctx.child_name(f"{role}-ring"),
        location=region,
        project=project_id(),
        opts=ctx.opts(stateful=True),
    )
    return kms.CryptoKey(
        ctx.child_name(role),
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=f"{KEY_ROTATION_S}s",
        # Time to notice and undo the destruction of a key version.
        destroy_scheduled_duration=f"{30 * 86400}s",
        labels=gcp_labels(ctx.tags()),
        opts=ctx.opts(stateful=True),
    )


def grant_agent(ctx: AnyContext, service: str, key_id: pulumi.Input[str]) -> kms.CryptoKeyIAMMember:
    """Lets the service agent of ``<service>.googleapis.com`` use the key.

    The agent is created on first use (``ServiceIdentity``), so a fresh project works too;
    the grant is named ``<name>-key-<service>``.
    """
    agent = projects.ServiceIdentity(
        ctx.child_name(f"{service}-agent"),
        service=f"{service}.googleapis.com",
        project=project_id(),
        opts=ctx.opts(),
    )
    return kms.CryptoKeyIAMMember(
        ctx.child_name(f"key-{service}"),
        crypto_key_id=key_id,
        role=_ENCRYPTER,
        member=agent.member,
        opts=ctx.opts(),
    )


class GcpFoundation(FoundationBackend):
    """Network, container registry and the stack key on GCP."""

    def create(self, ctx: BuildContext[FoundationArgs]) -> FoundationRef:
        """Creates what the stack's settings ask for and returns the references."""
        apis = enable_apis(ctx)
        # The foundation's own resources wait for the APIs too.
        ctx = dataclasses.replace(ctx, prerequisites=(*ctx.prerequisites, *apis))
        target = ctx.target
        region = region_of(ctx)
        network_id: pulumi.Input[str | None] = None
        subnet_ids: pulumi.Input[list[str] | None] = None
        service_ranges: dict[str, pulumi.Input[str]] = {}
        if target.network.create:
            from mlops_infra.backends.gcp._network import create_network  # noqa: PLC0415 - compute is slow to import

            created = create_network(ctx, region)
            network_id = created.network_id
            subnet_ids = created.subnet_id.apply(lambda subnet: [subnet])
            service_ranges = {"sql": created.sql_range}
        elif target.network.existing is not None:
            network_id = target.network.existing.id
            subnet_ids = list(target.network.existing.private_subnet_ids)

        given = target.secrets.encryption_key
        key_id: pulumi.Input[str] = given if given else create_key(ctx, "key", region).id
        # Consumers get the key only once Secret Manager may use it.
        secrets_grant = grant_agent(ctx, "secretmanager", key_id)
        encryption_key = pulumi.Output.all(key_id, secrets_grant.id).apply(lambda ids: str(ids[0]))

        registry_url: pulumi.Input[str | None] = None
        if target.container_registry.create:
            registry_grant = grant_agent(ctx, "artifactregistry", key_id)
            registry_url = self._registry(ctx, region, key_id, registry_grant).registry_uri

        return FoundationRef(
            network_id=network_id,
            private_subnet_ids=subnet_ids,
            registry_url=registry_url,
            encryption_key=encryption_key,
            service_ranges=service_ranges,
            prerequisites=apis,
        )

    @staticmethod
    def _registry(
        ctx: BuildContext[FoundationArgs],
        region: str,
        key_id: pulumi.Input[str],
        grant: kms.CryptoKeyIAMMember,
    ) -> artifactregistry.Repository:
        spec = ctx.target.container_registry
        return artifactregistry.Repository(
            ctx.child_name("registry"),
            repository_id=physical_name(
                ctx.child_name("registry"), max_length=63, salt=ctx.stack_name
            ),
            location=region,
            format="DOCKER",
            description=f"mlops-infra images of stack {ctx.stack_name}",
            docker_config=artifactregistry.RepositoryDockerConfigArgs(
                immutable_tags=spec.immutable_tags
            ),
            vulnerability_scanning_config=artifactregistry.RepositoryVulnerabilityScanningConfigArgs(
                enablement_config="INHERITED" if spec.scan_on_push else "DISABLED"
            ),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                # KEEP wins over DELETE: the newest versions stay whatever their tags.
                artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-newest",
                    action="KEEP",
                    most_recent_versions=(
                        artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                            keep_count=spec.keep_images
                        )
                    ),
                ),
                artifactregistry.RepositoryCleanupPolicyArgs(
                    id="delete-old-untagged",
                    action="DELETE",
                    condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED", older_than=f"{_UNTAGGED_GRACE_S}s"
                    ),
                ),
            ],
            # CMEK is fixed at creation; the registry waits for its service agent's grant.
            kms_key_name=key_id,
            labels=gcp_labels(ctx.tags()),
            project=project_id(),
            opts=ctx.opts(stateful=True, depends_on=[grant]),
        )
