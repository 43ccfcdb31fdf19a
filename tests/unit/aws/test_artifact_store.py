"""S3 artifact store: exact children, hardening inputs, protection, adoption."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.errors import BackendError

from .helpers import children, run_aws

STORE = "mlops:index:ArtifactStore"
S3 = "aws:s3/"


def test_children_are_exactly_the_hardened_bucket() -> None:
    run = run_aws({"environment": "dev"})
    assert children(run, STORE, "mlops-store") == {
        ("aws:s3/bucket:Bucket", "mlops-store"),
        ("aws:kms/key:Key", "mlops-store-key"),
        ("aws:kms/alias:Alias", "mlops-store-key-alias"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mlops-store-public-access"),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "mlops-store-ownership"),
        ("aws:s3/bucketVersioning:BucketVersioning", "mlops-store-versioning"),
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "mlops-store-encryption",
        ),
        (
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "mlops-store-lifecycle",
        ),
        ("aws:s3/bucketPolicy:BucketPolicy", "mlops-store-policy"),
    }


def test_security_inputs() -> None:
    run = run_aws({"environment": "dev"})
    bucket = run.inputs("aws:s3/bucket:Bucket", "mlops-store")
    assert bucket["bucketPrefix"] == "dev-mlops-store-"
    assert bucket["forceDestroy"] is False
    # No deprecated inline settings.
    assert "acl" not in bucket
    assert "policy" not in bucket
    block = run.inputs(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mlops-store-public-access"
    )
    assert {k: block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                  "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )  # fmt: skip
    ownership = run.inputs(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "mlops-store-ownership"
    )
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = run.inputs("aws:s3/bucketVersioning:BucketVersioning", "mlops-store-versioning")
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    key = run.inputs("aws:kms/key:Key", "mlops-store-key", parse_json=True)
    assert key["enableKeyRotation"] is True
    sse = run.inputs(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "mlops-store-encryption",
    )
    rule = sse["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": "arn:aws:kms:eu-west-1:123456789012:key/mlops-store-key",
    }
    assert rule["bucketKeyEnabled"] is True
    policy = run.inputs("aws:s3/bucketPolicy:BucketPolicy", "mlops-store-policy", parse_json=True)[
        "policy"
    ]
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [
        "arn:aws:s3:::dev-mlops-store-abc123",
        "arn:aws:s3:::dev-mlops-store-abc123/*",
    ]


def _rules(run: Any) -> dict[str, dict[str, Any]]:
    lifecycle = run.inputs(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "mlops-store-lifecycle"
    )
    return {rule["id"]: rule for rule in lifecycle["rules"]}


def test_lifecycle_rules_from_the_spec() -> None:
    run = run_aws(
        {
            "artifact_store": {
                "lifecycle": [
                    {"name": "tmp", "prefix": "tmp/", "expire_after_days": 3},
                    {"name": "runs", "prefix": "runs/", "noncurrent_after_days": 10},
                ],
                "noncurrent_version_days": 30,
            }
        }
    )
    rules = _rules(run)
    assert set(rules) == {"tmp", "runs", "noncurrent-versions", "abort-multipart"}
    assert rules["tmp"]["filter"] == {"prefix": "tmp/"}
    assert rules["tmp"]["expiration"] == {"days": 3}
    assert rules["runs"]["noncurrentVersionExpiration"] == {"noncurrentDays": 10}
    assert rules["noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rules["abort-multipart"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert all(rule["status"] == "Enabled" for rule in rules.values())


def test_given_key_replaces_the_dedicated_one() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/given"
    run = run_aws({"artifact_store": {"encryption_key": key}})
    assert ("aws:kms/key:Key", "mlops-store-key") not in children(run, STORE, "mlops-store")
    sse = run.inputs(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "mlops-store-encryption",
    )
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key


def test_object_lock_and_access_logging() -> None:
    run = run_aws({"artifact_store": {"object_lock_days": 30, "access_logging": True}})
    lock = run.inputs(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "mlops-store-object-lock",
    )
    assert lock["objectLockEnabled"] == "Enabled"
    assert lock["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}
    bucket = run.inputs("aws:s3/bucket:Bucket", "mlops-store")
    assert "objectLockEnabled" not in bucket  # enabled by its own resource: never a replacement
    logging = run.inputs("aws:s3/bucketLogging:BucketLogging", "mlops-store-access-logging")
    assert logging["targetBucket"] == "dev-mlops-store-logs-abc123"
    assert logging["targetPrefix"] == "access/"
    logs_sse = run.inputs(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "mlops-store-logs-encryption",
    )
    # S3 delivers server access logs only to SSE-S3 buckets.
    assert logs_sse["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    block = run.inputs(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mlops-store-logs-public-access"
    )
    assert block["blockPublicPolicy"] is True
    policy = run.inputs(
        "aws:s3/bucketPolicy:BucketPolicy", "mlops-store-logs-policy", parse_json=True
    )["policy"]
    delivery, deny = policy["Statement"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert deny["Effect"] == "Deny"


@pytest.mark.parametrize(
    ("environment", "protected"), [("dev", False), ("staging", False), ("prod", True)]
)
def test_stateful_children_are_protected_in_production(environment: str, protected: bool) -> None:
    run = run_aws({"environment": environment, "artifact_store": {"access_logging": True}})
    for type_token, name in [
        ("aws:s3/bucket:Bucket", "mlops-store"),
        ("aws:s3/bucket:Bucket", "mlops-store-logs"),
        ("aws:kms/key:Key", "mlops-store-key"),
    ]:
        registration = run.one(type_token, name)
        assert (registration.protect, registration.retain_on_delete) == (protected, protected)
    settings = run.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "mlops-store-lifecycle"
    )
    assert not settings.protect


def test_adopts_only_s3() -> None:
    run = run_aws({"artifact_store": {"existing": {"uri": "s3://team-bucket/ml"}}})
    assert children(run, STORE, "mlops-store") == set()
    with pytest.raises(BackendError, match="can only adopt s3:// stores"):
        run_aws({"artifact_store": {"existing": {"uri": "gs://elsewhere"}}})
