"""Cloud Storage: uniform access, public access prevented, versioned, CMEK, no public members."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_strings, get, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, violation

__all__ = ["PUBLIC_MEMBERS", "RULES", "public_members"]

_BUCKET = ("gcp:storage/bucket:Bucket",)
_BUCKET_IAM = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
"""IAM members that mean everyone."""


def public_members(resource: PlannedResource) -> list[str]:
    """Returns the public members an IAM member or binding grants to."""
    members = as_strings(resource.inputs.get("member")) + as_strings(resource.inputs.get("members"))
    return [m for m in members if m in PUBLIC_MEMBERS]


def _uniform(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not truthy(resource.inputs.get("uniformBucketLevelAccess")):
        return violation("object ACLs are allowed; set uniform_bucket_level_access")
    return compliant()


def _prevented(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("publicAccessPrevention") != "enforced":
        return violation("public access prevention is not enforced")
    return compliant()


def _versioned(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not truthy(get(resource.inputs, "versioning.enabled")):
        return violation("object versioning is off")
    return compliant()


def _cmek(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not get(resource.inputs, "encryption.defaultKmsKeyName"):
        return violation("encrypted with a Google-managed key; set encryption.default_kms_key_name")
    return compliant()


def _not_public(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    public = public_members(resource)
    if public:
        return violation(f"grants {resource.inputs.get('role')} to {', '.join(public)}")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-GCP-GCS-001",
        title="Cloud Storage buckets use uniform bucket-level access",
        pack="gcp",
        types=_BUCKET,
        check=_uniform,
        scanners=("CKV_GCP_29",),
        remediation="uniform_bucket_level_access=True",
    ),
    Rule(
        id="MLOPS-GCP-GCS-002",
        title="Cloud Storage buckets enforce public access prevention",
        pack="gcp",
        types=_BUCKET,
        check=_prevented,
        scanners=("CKV_GCP_114",),
        severity="critical",
        remediation='public_access_prevention="enforced"',
    ),
    Rule(
        id="MLOPS-GCP-GCS-003",
        title="Cloud Storage buckets keep object versions",
        pack="gcp",
        types=_BUCKET,
        check=_versioned,
        scanners=("CKV_GCP_78",),
        severity="medium",
        remediation="versioning.enabled=True",
    ),
    Rule(
        id="MLOPS-GCP-GCS-004",
        title="Cloud Storage buckets are encrypted with a customer-managed key",
        pack="gcp",
        types=_BUCKET,
        check=_cmek,
        severity="medium",
        remediation="encryption.default_kms_key_name",
    ),
    Rule(
        id="MLOPS-GCP-GCS-005",
        title="No bucket grants access to allUsers or allAuthenticatedUsers",
        pack="gcp",
        types=_BUCKET_IAM,
        check=_not_public,
        scanners=("CKV_GCP_28",),
        severity="critical",
        remediation="grant roles to service accounts of the stack",
    ),
)
