"""ECR repositories: immutable tags, scan on push, KMS encryption, a lifecycle policy."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_list, as_mapping, get, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, violation

__all__ = ["RULES"]

_REPOSITORY = ("aws:ecr/repository:Repository",)
_IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")


def _immutable(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    mutability = resource.inputs.get("imageTagMutability") or "MUTABLE"
    if mutability not in _IMMUTABLE:
        return violation(f"image tags are {mutability}; a pushed tag could be overwritten")
    return compliant()


def _scan_on_push(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not truthy(get(resource.inputs, "imageScanningConfiguration.scanOnPush")):
        return violation("images are not scanned on push")
    return compliant()


def _kms(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    configs = [as_mapping(c) for c in as_list(resource.inputs.get("encryptionConfigurations"))]
    if not any(c.get("encryptionType") in ("KMS", "KMS_DSSE") for c in configs):
        return violation("images are encrypted with AES256, not a KMS key")
    return compliant()


def _lifecycle(resource: PlannedResource, context: PolicyContext) -> Outcome:
    policies = context.related(
        resource,
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy",),
        via="repository",
        physical_key="name",
    )
    if not policies:
        return violation("no lifecycle policy; untagged images are kept forever")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-AWS-ECR-001",
        title="ECR image tags are immutable",
        pack="aws",
        types=_REPOSITORY,
        check=_immutable,
        scanners=("CKV_AWS_51",),
        remediation="image_tag_mutability IMMUTABLE (registry.immutable_tags: true)",
    ),
    Rule(
        id="MLOPS-AWS-ECR-002",
        title="ECR repositories scan images on push",
        pack="aws",
        types=_REPOSITORY,
        check=_scan_on_push,
        scanners=("CKV_AWS_163",),
        severity="medium",
        remediation="image_scanning_configuration.scan_on_push (registry.scan_on_push: true)",
    ),
    Rule(
        id="MLOPS-AWS-ECR-003",
        title="ECR repositories are encrypted with KMS",
        pack="aws",
        types=_REPOSITORY,
        check=_kms,
        scanners=("CKV_AWS_136",),
        severity="medium",
        remediation="encryption_configurations: [{encryption_type: KMS, kms_key: ...}]",
    ),
    Rule(
        id="MLOPS-AWS-ECR-004",
        title="ECR repositories expire untagged images",
        pack="aws",
        types=_REPOSITORY,
        check=_lifecycle,
        severity="low",
        uses_stack=True,
        remediation="attach a LifecyclePolicy (registry.keep_images)",
    ),
)
