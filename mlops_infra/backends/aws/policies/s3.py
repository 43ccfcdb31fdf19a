"""S3 buckets: private, KMS-encrypted, versioned, TLS only, with lifecycle, kept in production.

pulumi_aws 7 configures a bucket through separate resources (public access block,
versioning, encryption, lifecycle, policy) attached by their ``bucket`` input; the
checks find them in the stack and also accept the deprecated inline arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import (
    as_list,
    as_mapping,
    as_strings,
    get,
    policy_statements,
    truthy,
)
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["BUCKET_TYPES", "RULES"]

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
"""S3 bucket type tokens."""

_PAB = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
_VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
_LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
_ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
_PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
_PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _public_access_block(resource: PlannedResource, context: PolicyContext) -> Outcome:
    blocks = context.related(resource, _PAB, via="bucket")
    if not blocks:
        return violation("no public access block; attach a BucketPublicAccessBlock")
    off = sorted({flag for b in blocks for flag in _PAB_FLAGS if not truthy(b.inputs.get(flag))})
    if off:
        return violation(f"public access block leaves {', '.join(off)} off")
    return compliant()


def _sse_rules(resource: PlannedResource, context: PolicyContext) -> list[Mapping[str, Any]]:
    rules = [
        as_mapping(r)
        for c in context.related(resource, _SSE, via="bucket")
        for r in as_list(c.inputs.get("rules"))
    ]
    inline = get(resource.inputs, "serverSideEncryptionConfiguration.rule")
    return rules + [as_mapping(r) for r in as_list(inline)]


def _is_log_target(resource: PlannedResource, context: PolicyContext) -> bool:
    """Whether another bucket delivers its server access logs to ``resource``."""
    names = {resource.name, f"{resource.name}-id", resource.inputs.get("bucket")}
    return any(
        logging.inputs.get("targetBucket") in names
        for logging in context.of_type(*_LOGGING)
        if isinstance(logging.inputs.get("targetBucket"), str)
    )


def _kms_encrypted(resource: PlannedResource, context: PolicyContext) -> Outcome:
    rules = _sse_rules(resource, context)
    if not rules:
        return violation("no default encryption; configure SSE with a KMS key")
    defaults = [as_mapping(rule.get("applyServerSideEncryptionByDefault")) for rule in rules]
    if any(d.get("sseAlgorithm") in _KMS_ALGORITHMS and d.get("kmsMasterKeyId") for d in defaults):
        return compliant()
    if _is_log_target(resource, context) and any(d.get("sseAlgorithm") for d in defaults):
        # S3 delivers server access logs only to SSE-S3 buckets: KMS cannot be asked for.
        return compliant()
    return violation("default encryption is not aws:kms with a customer-managed key")


def _versioned(resource: PlannedResource, context: PolicyContext) -> Outcome:
    statuses = [
        get(v.inputs, "versioningConfiguration.status")
        for v in context.related(resource, _VERSIONING, via="bucket")
    ]
    if "Enabled" in statuses or truthy(get(resource.inputs, "versioning.enabled")):
        return compliant()
    return violation("versioning is not enabled; attach BucketVersioning with status Enabled")


def _denies_plain_http(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    condition = as_mapping(statement.get("Condition"))
    secure = as_mapping(condition.get("Bool")).get("aws:SecureTransport")
    return secure in ("false", False) or "false" in as_strings(secure)


def _tls_only(resource: PlannedResource, context: PolicyContext) -> Outcome:
    for policy in context.related(resource, _POLICY, via="bucket"):
        if any(_denies_plain_http(s) for s in policy_statements(policy.inputs.get("policy"))):
            return compliant()
    return violation("no bucket policy denies requests without TLS (aws:SecureTransport false)")


def _no_public_acl(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    acl = resource.inputs.get("acl")
    if acl in _PUBLIC_ACLS:
        return violation(f"canned ACL {acl} makes objects public; use private")
    grants = get(resource.inputs, "accessControlPolicy.grants") or resource.inputs.get("grants")
    for grant in as_list(grants):
        uri = get(as_mapping(grant), "grantee.uri") or as_mapping(grant).get("uri")
        if uri in _PUBLIC_GRANTEES:
            return violation(f"an ACL grant gives {uri.rsplit('/', 1)[-1]} access")
    return compliant()


def _lifecycle(resource: PlannedResource, context: PolicyContext) -> Outcome:
    configs = context.related(resource, _LIFECYCLE, via="bucket")
    rules = [as_mapping(r) for c in configs for r in as_list(c.inputs.get("rules"))]
    rules += [as_mapping(r) for r in as_list(resource.inputs.get("lifecycleRules"))]
    if any(r.get("status") == "Enabled" or truthy(r.get("enabled")) for r in rules):
        return compliant()
    return violation("no enabled lifecycle rule; old versions and scratch data pile up")


def _kept(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    if truthy(resource.inputs.get("forceDestroy")):
        return violation("forceDestroy deletes every object when the bucket is destroyed")
    return compliant()


def _rule(id_: str, title: str, check: Any, scanners: tuple[str, ...], **extra: Any) -> Rule:
    return Rule(
        id=id_,
        title=title,
        pack="aws",
        types=extra.pop("types", BUCKET_TYPES),
        check=check,
        scanners=scanners,
        **extra,
    )


RULES = (
    _rule(
        "MLOPS-AWS-S3-001",
        "S3 buckets block every kind of public access",
        _public_access_block,
        ("CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        severity="critical",
        uses_stack=True,
        remediation="attach a BucketPublicAccessBlock with all four flags true",
    ),
    _rule(
        "MLOPS-AWS-S3-002",
        "S3 buckets are encrypted by default with a KMS customer-managed key "
        "(access-log targets: SSE-S3, the only encryption S3 log delivery accepts)",
        _kms_encrypted,
        ("CKV_AWS_145", "CKV_AWS_19"),
        uses_stack=True,
        remediation="BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms and a key",
    ),
    _rule(
        "MLOPS-AWS-S3-003",
        "S3 buckets keep object versions",
        _versioned,
        ("CKV_AWS_21",),
        severity="medium",
        uses_stack=True,
        remediation="attach BucketVersioning with status Enabled",
    ),
    _rule(
        "MLOPS-AWS-S3-004",
        "S3 buckets deny requests that do not use TLS",
        _tls_only,
        ("SecurityHub:S3.5",),
        uses_stack=True,
        remediation="bucket policy: Deny s3:* when aws:SecureTransport is false",
    ),
    _rule(
        "MLOPS-AWS-S3-005",
        "S3 buckets grant no public ACL",
        _no_public_acl,
        ("CKV_AWS_20", "CKV_AWS_57"),
        severity="critical",
        types=(*BUCKET_TYPES, *_ACL_TYPES),
        remediation="use the private canned ACL (or BucketOwnerEnforced ownership)",
    ),
    _rule(
        "MLOPS-AWS-S3-006",
        "S3 buckets have a lifecycle configuration",
        _lifecycle,
        ("CKV2_AWS_61",),
        severity="low",
        uses_stack=True,
        remediation="attach BucketLifecycleConfiguration with at least one enabled rule",
    ),
    _rule(
        "MLOPS-AWS-S3-007",
        "Production S3 buckets are never force-destroyed",
        _kept,
        (),
        severity="critical",
        remediation="leave force_destroy off (purge_on_delete: false)",
    ),
)
