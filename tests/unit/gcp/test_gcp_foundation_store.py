"""Foundation and artifact store on GCP under mocks: exact children, security inputs, options."""

from __future__ import annotations

from typing import Any

import pytest
from gcp_mocks import (
    BUCKET,
    BUCKET_IAM,
    GCS_AGENT,
    KEY,
    KEY_IAM,
    NUMBER,
    PROJECT,
    REGION,
    REPOSITORY,
    SQL,
    base_spec,
    gcp_registry,
    synth,
)
from pydantic import ValidationError

from mlops_infra.errors import BackendError
from mlops_infra.offline import ProgramRun
from mlops_infra.specs import StackSpec

KEY_ID = f"projects/{PROJECT}/locations/{REGION}/keyRings/mlops-key-ring-x1/cryptoKeys/mlops-key"


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    spec = base_spec(
        "prod",
        artifact_store={
            "access_logging": True,
            "lifecycle": [
                {"name": "tmp", "prefix": "tmp/", "expire_after_days": 7},
                {"name": "old-runs", "prefix": "runs/", "noncurrent_after_days": 30},
            ],
        },
        registry={"keep_images": 20},
    )
    return synth(spec, stack="prod")


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return synth(base_spec("dev", artifact_store={"purge_on_delete": True}))


def test_foundation_creates_a_private_network_with_private_service_access(prod: ProgramRun) -> None:
    network = prod.inputs("gcp:compute/network:Network", "mlops-network")
    assert network["autoCreateSubnetworks"] is False
    subnet = prod.inputs("gcp:compute/subnetwork:Subnetwork", "mlops-private")
    assert subnet["ipCidrRange"] == "10.40.0.0/17"
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["region"] == REGION
    peering = prod.inputs("gcp:servicenetworking/connection:Connection", "mlops-psa")
    assert peering["service"] == "servicenetworking.googleapis.com"
    nat = prod.inputs("gcp:compute/routerNat:RouterNat", "mlops-nat")
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"


ADDRESS = "gcp:compute/globalAddress:GlobalAddress"


def test_private_service_access_has_a_range_for_cloud_sql_and_one_for_vertex(
    prod: ProgramRun,
) -> None:
    """Issue 14.8: one /20 was shared by Cloud SQL and Vertex AI, where Vertex AI's guide
    sizes /16-/18 for parallel jobs (vertex-ai/docs/training/using-private-ip) and Cloud
    SQL takes a /24 per region (sql/docs/postgres/private-ip#allocated_ip_address_ranges)."""
    assert prod.names(ADDRESS) == ["mlops-psa-range", "mlops-vertex-range"]
    sql_range = prod.inputs(ADDRESS, "mlops-psa-range")
    vertex_range = prod.inputs(ADDRESS, "mlops-vertex-range")
    for address, prefix in ((sql_range, 22), (vertex_range, 18)):
        assert (address["purpose"], address["addressType"], address["prefixLength"]) == (
            "VPC_PEERING",
            "INTERNAL",
            prefix,
        )
        assert address["network"] == f"projects/{PROJECT}/global/networks/mlops-network-af6d98"
    # The Cloud SQL range keeps its former inputs but the size (no replacement otherwise).
    assert "description" not in sql_range
    peering = prod.inputs("gcp:servicenetworking/connection:Connection", "mlops-psa")
    assert peering["reservedPeeringRanges"] == [
        "mlops-psa-range-a1b2c3d",
        "mlops-vertex-range-a1b2c3d",
    ]
    # Cloud SQL is placed in its own range, so Vertex AI jobs cannot exhaust it.
    instance = prod.inputs(SQL, "mlops-tracking-db")
    assert instance["settings"]["ipConfiguration"]["allocatedIpRange"] == (
        "mlops-psa-range-a1b2c3d"
    )


def test_flow_logs_sample_less_without_metadata_in_development(
    prod: ProgramRun, dev: ProgramRun
) -> None:
    """Issue 14.12: dev subnets logged half the flows with all metadata; flow logs are
    billed by volume (vpc/network-pricing#network-telemetry, vpc/docs/flow-logs)."""
    subnet = "gcp:compute/subnetwork:Subnetwork"
    assert prod.inputs(subnet, "mlops-private")["logConfig"] == {
        "aggregationInterval": "INTERVAL_10_MIN",
        "flowSampling": 0.5,
        "metadata": "INCLUDE_ALL_METADATA",
    }
    assert dev.inputs(subnet, "mlops-private")["logConfig"] == {
        "aggregationInterval": "INTERVAL_10_MIN",
        "flowSampling": 0.1,
        "metadata": "EXCLUDE_ALL_METADATA",
    }


def test_network_options_size_the_private_service_ranges() -> None:
    spec = base_spec(
        "dev",
        network={"create": True, "options": {"sql_range_prefix": 20, "vertex_range_prefix": 16}},
    )
    run = synth(spec)
    assert run.inputs(ADDRESS, "mlops-psa-range")["prefixLength"] == 20
    assert run.inputs(ADDRESS, "mlops-vertex-range")["prefixLength"] == 16


@pytest.mark.parametrize(
    ("network", "where", "message"),
    [
        (
            {"create": True, "options": {"vertex_range_prefix": 25}},
            "network.options.vertex_range_prefix",
            "Input should be less than or equal to 24 (options of flavor gcp/foundation/default)",
        ),
        (
            {"create": True, "options": {"psa_prefix": 20}},
            "network.options.psa_prefix",
            "Extra inputs are not permitted (options of flavor gcp/foundation/default)",
        ),
        (
            {"options": {"sql_range_prefix": 20}},
            "network.options",
            "applies to a created network; set create: true or remove it",
        ),
    ],
)
def test_network_options_are_checked_when_the_stack_loads(
    network: dict[str, Any], where: str, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        StackSpec.model_validate(
            base_spec("dev", network=network), context={"registry": gcp_registry()}
        )
    assert f"{where}\n  {message}" in str(raised.value)


def test_no_network_is_created_or_compute_imported_unless_asked() -> None:
    import subprocess
    import sys
    import textwrap

    from gcp_mocks import REPO

    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests/unit/gcp")
        from gcp_mocks import synth, base_spec
        spec = base_spec("dev")
        del spec["network"]
        spec["tracking"] = {"existing": {"url": "https://mlflow.example.com"}}
        run = synth(spec)
        assert not [r for r in run.registrations if r.type.startswith("gcp:compute/")]
        # pulumi_gcp registers its submodules lazily; nothing of compute may have loaded.
        compute = sys.modules.get("pulumi_gcp.compute")
        assert compute is None or type(compute).__name__ in ("_LazyModule", "_NameByName")
        assert not [name for name in sys.modules if name.startswith("pulumi_gcp.compute.")]
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_registry_is_immutable_scanned_encrypted_and_cleaned(prod: ProgramRun) -> None:
    registry = prod.one(REPOSITORY, "mlops-registry")
    repo = registry.plain_inputs()
    assert repo["format"] == "DOCKER"
    assert repo["location"] == REGION
    assert repo["dockerConfig"] == {"immutableTags": True}
    assert repo["vulnerabilityScanningConfig"] == {"enablementConfig": "INHERITED"}
    assert repo["kmsKeyName"] == KEY_ID
    policies = {p["id"]: p for p in repo["cleanupPolicies"]}
    assert policies["keep-newest"]["action"] == "KEEP"
    assert policies["keep-newest"]["mostRecentVersions"] == {"keepCount": 20}
    assert policies["delete-old-untagged"]["condition"]["tagState"] == "UNTAGGED"
    assert repo["cleanupPolicyDryRun"] is False
    assert registry.protect
    assert registry.retain_on_delete
    grant = prod.inputs(KEY_IAM, "mlops-key-artifactregistry")
    assert grant["member"] == (
        f"serviceAccount:service-{NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    )
    assert prod.one(KEY_IAM, "mlops-key-artifactregistry").urn in registry.depends_on


def test_stack_key_rotates_and_is_protected_in_production(prod: ProgramRun) -> None:
    key = prod.one(KEY, "mlops-key")
    assert key.plain_inputs()["rotationPeriod"] == "7776000s"
    assert key.plain_inputs()["purpose"] == "ENCRYPT_DECRYPT"
    assert key.protect
    assert key.retain_on_delete
    ring = prod.one("gcp:kms/keyRing:KeyRing", "mlops-key-ring")
    assert ring.plain_inputs()["location"] == REGION
    assert ring.protect
    grant = prod.inputs(KEY_IAM, "mlops-key-secretmanager")
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"].endswith("@gcp-sa-secretmanager.iam.gserviceaccount.com")


def test_given_secrets_key_is_used_instead_of_a_new_one() -> None:
    given = "projects/sec/locations/europe-west4/keyRings/org/cryptoKeys/mlops"
    spec = base_spec("dev", secrets={"encryption_key": given})
    spec["tracking"] = {"existing": {"url": "https://mlflow.example.com"}}
    run = synth(spec)
    assert run.names(KEY) == []
    assert run.inputs(BUCKET, "mlops-store")["encryption"] == {"defaultKmsKeyName": given}
    assert run.inputs(REPOSITORY, "mlops-registry")["kmsKeyName"] == given


def test_bucket_is_private_versioned_encrypted_and_protected(prod: ProgramRun) -> None:
    bucket = prod.one(BUCKET, "mlops-store")
    store: dict[str, Any] = bucket.plain_inputs()
    assert store["uniformBucketLevelAccess"] is True
    assert store["publicAccessPrevention"] == "enforced"
    assert store["versioning"] == {"enabled": True}
    assert store["encryption"] == {"defaultKmsKeyName": KEY_ID}
    assert store["location"] == REGION.upper()
    assert store["softDeletePolicy"] == {"retentionDurationSeconds": 7 * 86400}
    assert store["forceDestroy"] is False
    assert "retentionPolicy" not in store
    assert bucket.protect
    assert bucket.retain_on_delete
    labels = store["labels"]
    assert labels["managed-by"] == "mlops-infra"
    assert labels["mlops-environment"] == "prod"
    assert labels["mlops-stack"] == "prod"
    assert labels["team"] == "ml_platform"


def test_bucket_lifecycle_follows_the_spec(prod: ProgramRun) -> None:
    rules = prod.inputs(BUCKET, "mlops-store")["lifecycleRules"]
    assert {
        "action": {"type": "Delete"},
        "condition": {"age": 7, "matchesPrefixes": ["tmp/"], "withState": "LIVE"},
    } in rules
    assert {
        "action": {"type": "Delete"},
        "condition": {
            "daysSinceNoncurrentTime": 30,
            "matchesPrefixes": ["runs/"],
            "withState": "ARCHIVED",
        },
    } in rules
    assert {
        "action": {"type": "Delete"},
        "condition": {"daysSinceNoncurrentTime": 90, "withState": "ARCHIVED"},
    } in rules


def test_gcs_service_agent_may_use_the_key_before_the_bucket_exists(prod: ProgramRun) -> None:
    grant = prod.one(KEY_IAM, "mlops-store-key-gcs")
    assert grant.plain_inputs() == {
        "cryptoKeyId": KEY_ID,
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": GCS_AGENT,
    }
    assert grant.urn in prod.one(BUCKET, "mlops-store").depends_on


def test_access_logs_go_to_a_private_log_bucket(prod: ProgramRun) -> None:
    logs = prod.one(BUCKET, "mlops-store-logs")
    assert logs.plain_inputs()["publicAccessPrevention"] == "enforced"
    assert logs.plain_inputs()["uniformBucketLevelAccess"] is True
    assert logs.protect
    store = prod.inputs(BUCKET, "mlops-store")
    assert store["logging"] == {
        "logBucket": "mlops-store-logs-a1b2c3d",
        "logObjectPrefix": "access/",
    }
    writer = prod.inputs(BUCKET_IAM, "mlops-store-logs-writer")
    assert writer["member"] == "group:cloud-storage-analytics@google.com"
    assert writer["role"] == "roles/storage.objectCreator"


def test_dev_store_purges_on_delete_and_is_not_protected(dev: ProgramRun) -> None:
    bucket = dev.one(BUCKET, "mlops-store")
    assert bucket.plain_inputs()["forceDestroy"] is True
    assert not bucket.protect
    assert not bucket.retain_on_delete
    assert dev.names(BUCKET) == ["mlops-store"]


def test_object_lock_is_a_retention_policy_without_versioning() -> None:
    spec = base_spec("dev", artifact_store={"object_lock_days": 30})
    spec["tracking"] = {"existing": {"url": "https://mlflow.example.com"}}
    store = synth(spec).inputs(BUCKET, "mlops-store")
    assert store["retentionPolicy"] == {"retentionPeriod": str(30 * 86400), "isLocked": False}
    # GCS refuses a retention policy on a versioned bucket.
    assert store["versioning"] == {"enabled": False}


def test_no_bucket_iam_grants_public_members(prod: ProgramRun) -> None:
    for grant in prod.of_type(BUCKET_IAM):
        assert grant.plain_inputs()["member"] not in ("allUsers", "allAuthenticatedUsers")


def test_adopting_a_gcs_store_creates_no_bucket_and_other_schemes_fail() -> None:
    spec = base_spec("dev", artifact_store={"existing": {"uri": "gs://shared-ml/team"}})
    spec["tracking"] = {"existing": {"url": "https://mlflow.example.com"}}
    run = synth(spec)
    assert run.names(BUCKET) == []
    spec["artifact_store"] = {"existing": {"uri": "s3://elsewhere"}}
    with pytest.raises(BackendError, match="only adopt gs://"):
        synth(spec)


def test_a_region_is_required() -> None:
    spec = base_spec("dev")
    del spec["region"]
    with pytest.raises(BackendError, match="gcp:region"):
        synth(spec)


def test_an_endpoint_list_is_refused_on_gcp() -> None:
    """`network.endpoints` chooses AWS interface endpoints; GCP uses Private Google Access."""
    spec = base_spec("prod", network={"create": True, "endpoints": ["logs"]})
    with pytest.raises(
        Exception, match=r"network.endpoints \['logs'\]: gcp creates no per-service"
    ):
        synth(spec, stack="prod")
