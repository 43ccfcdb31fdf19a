"""Cloud Run and Artifact Registry: internal ingress, no public invokers, immutable CMEK images."""

from __future__ import annotations

from mlops_infra.backends.gcp.policies.storage import public_members
from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_mapping, get, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES"]

_SERVICE = (
    "gcp:cloudrunv2/service:Service",
    # The serving service, deployed at `up` through the Admin API: its body is `template`.
    "pulumi-python:dynamic/mlops:GcpCloudRunDeployment",
)
_SERVICE_IAM = (
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
    "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
    "gcp:cloudrun/iamMember:IamMember",
    "gcp:cloudrun/iamBinding:IamBinding",
)
_REPOSITORY = ("gcp:artifactregistry/repository:Repository",)
_REPOSITORY_IAM = (
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
)
_MAX_ROTATION_S = 90 * 86400
_INTERNAL = ("INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER")


def _internal(resource: PlannedResource, context: PolicyContext) -> Outcome:
    endpoint = next(
        (e for e in context.facts.endpoints if resource.name.startswith(e.component)), None
    )
    if endpoint is not None and endpoint.public:
        return not_applicable(f"endpoint {endpoint.name} is declared public (MLOPS-SERVE-001)")
    body = as_mapping(resource.inputs.get("template")) if "Deployment" in resource.type else None
    inputs = body if body is not None else resource.inputs
    ingress = inputs.get("ingress") or "INGRESS_TRAFFIC_ALL"
    if (
        ingress not in _INTERNAL
        and endpoint is None
        and context.facts.tracking_auth
        and not truthy(inputs.get("invokerIamDisabled"))
    ):
        # Vertex jobs (peered) and the gate on the deployer's machine are not the VPC's
        # traffic for internal ingress; callers need run.invoker and MLflow basic auth.
        return compliant()
    if ingress not in _INTERNAL:
        return violation(f"ingress {ingress} accepts traffic from the internet")
    return compliant()


def _no_public_member(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    public = public_members(resource)
    if public:
        return violation(f"grants {resource.inputs.get('role')} to {', '.join(public)}")
    return compliant()


def _immutable(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("format", "DOCKER") != "DOCKER":
        return not_applicable("not a container repository")
    if not truthy(get(resource.inputs, "dockerConfig.immutableTags")):
        return violation("image tags can be moved; set docker_config.immutable_tags")
    return compliant()


def _cmek(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not resource.inputs.get("kmsKeyName"):
        return violation("encrypted with a Google-managed key; set kms_key_name")
    return compliant()


def _seconds(period: str) -> float | None:
    number = period.removesuffix("s")
    if period.endswith("s") and number.replace(".", "", 1).isdigit():
        return float(number)
    return None


def _rotation(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("purpose", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return not_applicable("only symmetric keys rotate automatically")
    period = str(resource.inputs.get("rotationPeriod") or "")
    seconds = _seconds(period)
    if seconds is None or seconds > _MAX_ROTATION_S:
        return violation(f"rotation period {period or 'unset'}; rotate at least every 90 days")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-GCP-RUN-001",
        title="Cloud Run services accept internal traffic only",
        pack="gcp",
        types=_SERVICE,
        check=_internal,
        remediation='ingress="INGRESS_TRAFFIC_INTERNAL_ONLY"',
    ),
    Rule(
        id="MLOPS-GCP-RUN-002",
        title="Cloud Run services are not invokable by allUsers",
        pack="gcp",
        types=_SERVICE_IAM,
        check=_no_public_member,
        scanners=("CKV_GCP_102",),
        severity="critical",
        remediation="grant run.invoker to the callers' service accounts",
    ),
    Rule(
        id="MLOPS-GCP-AR-001",
        title="Artifact Registry repositories have immutable tags",
        pack="gcp",
        types=_REPOSITORY,
        check=_immutable,
        remediation="docker_config.immutable_tags=True",
    ),
    Rule(
        id="MLOPS-GCP-AR-002",
        title="Artifact Registry repositories are encrypted with a customer-managed key",
        pack="gcp",
        types=_REPOSITORY,
        check=_cmek,
        scanners=("CKV_GCP_84",),
        severity="medium",
        remediation="kms_key_name",
    ),
    Rule(
        id="MLOPS-GCP-AR-003",
        title="Artifact Registry repositories are not readable by allUsers",
        pack="gcp",
        types=_REPOSITORY_IAM,
        check=_no_public_member,
        scanners=("CKV_GCP_101",),
        severity="critical",
        remediation="grant reader roles to the stack's service accounts",
    ),
    Rule(
        id="MLOPS-GCP-KMS-001",
        title="Cloud KMS keys rotate at least every 90 days",
        pack="gcp",
        types=("gcp:kms/cryptoKey:CryptoKey",),
        check=_rotation,
        scanners=("CKV_GCP_43",),
        severity="medium",
        remediation='rotation_period="7776000s" or shorter',
    ),
)
