"""The cloud-run tracking server under mocks: private Cloud SQL, internal Cloud Run, IAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gcp_mocks import (
    ACCOUNT,
    BUCKET_IAM,
    DEPLOYER,
    NUMBER,
    PROJECT,
    REGION,
    SECRET,
    SECRET_IAM,
    SECRET_VERSION,
    SERVICE,
    SERVICE_IAM,
    SQL,
    base_spec,
    synth,
)

from mlops_infra.backends.gcp.tracking_server import auth_config
from mlops_infra.errors import BackendError
from mlops_infra.images import mlflow_server_source
from mlops_infra.offline import ProgramRun

SERVER_SA = "mlops-tracking-server-sa"


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return synth(base_spec("prod", tracking={"size": "medium"}), stack="prod")


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return synth(base_spec("dev"))


def _server_email(run: ProgramRun) -> str:
    account_id = run.inputs(ACCOUNT, SERVER_SA)["accountId"]
    return f"{account_id}@{PROJECT}.iam.gserviceaccount.com"


def _container(run: ProgramRun) -> dict[str, Any]:
    service = run.inputs(SERVICE, "mlops-tracking-service")
    return service["template"]["containers"][0]


def test_database_is_postgres_on_a_private_ip_only(prod: ProgramRun) -> None:
    db = prod.inputs(SQL, "mlops-tracking-db")
    assert db["databaseVersion"] == "POSTGRES_16"
    ip = db["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert ip["privateNetwork"] == f"projects/{PROJECT}/global/networks/{_network(prod)}"
    assert "authorizedNetworks" not in ip
    assert db["settings"]["tier"] == "db-custom-2-7680"


def _network(run: ProgramRun) -> str:
    return run.inputs("gcp:compute/network:Network", "mlops-network")["name"]


def test_production_database_is_protected_backed_up_and_regional(prod: ProgramRun) -> None:
    instance = prod.one(SQL, "mlops-tracking-db")
    db = instance.plain_inputs()
    assert db["deletionProtection"] is True
    assert db["settings"]["deletionProtectionEnabled"] is True
    assert db["settings"]["availabilityType"] == "REGIONAL"
    backups = db["settings"]["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["pointInTimeRecoveryEnabled"] is True
    assert backups["backupRetentionSettings"] == {"retainedBackups": 7, "retentionUnit": "COUNT"}
    assert db["settings"]["finalBackupConfig"] == {"enabled": True, "retentionDays": 7}
    assert db["settings"]["retainBackupsOnDelete"] is True
    assert instance.protect
    assert instance.retain_on_delete
    assert "settings.diskSize" in instance.ignore_changes


def test_dev_database_is_zonal_without_pitr_and_deletable(dev: ProgramRun) -> None:
    instance = dev.one(SQL, "mlops-tracking-db")
    db = instance.plain_inputs()
    assert db["deletionProtection"] is False
    assert db["settings"]["availabilityType"] == "ZONAL"
    assert db["settings"]["backupConfiguration"]["pointInTimeRecoveryEnabled"] is False
    assert db["settings"]["backupConfiguration"]["enabled"] is True
    assert not instance.protect


def test_database_user_password_is_a_secret(prod: ProgramRun) -> None:
    user = prod.one("gcp:sql/user:User", "mlops-tracking-db-user")
    assert user.plain_inputs()["name"] == "mlflow"
    assert user.plain_inputs()["deletionPolicy"] == "ABANDON"
    from mlops_infra.offline import is_secret

    assert is_secret(user.inputs["password"])


def test_service_needs_an_invoker_and_only_the_deployer_is_one(prod: ProgramRun) -> None:
    # Issue 14 item 6: Vertex jobs (peered) and the gate (deployer's machine) are not the
    # VPC's traffic for Cloud Run's internal ingress; every caller still needs an ID token
    # of an invoker and MLflow basic auth.
    service = prod.inputs(SERVICE, "mlops-tracking-service")
    assert service["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert service["invokerIamDisabled"] is False
    assert service["location"] == REGION
    assert service["deletionProtection"] is False
    tracking_grants = [n for n in prod.names(SERVICE_IAM) if n.startswith("mlops-tracking")]
    assert tracking_grants == ["mlops-tracking-deployer-invoker"]
    grant = prod.inputs(SERVICE_IAM, "mlops-tracking-deployer-invoker")
    assert grant == {
        "name": service["name"],
        "location": REGION,
        "role": "roles/run.invoker",
        "member": f"serviceAccount:{DEPLOYER}",
    }
    template = service["template"]
    assert template["serviceAccount"] == _server_email(prod)
    assert template["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 3}
    vpc = template["vpcAccess"]
    assert vpc["egress"] == "PRIVATE_RANGES_ONLY"
    assert vpc["networkInterfaces"][0]["subnetwork"].endswith(
        "/subnetworks/" + prod.inputs("gcp:compute/subnetwork:Subnetwork", "mlops-private")["name"]
    )


def test_ingress_can_be_kept_internal_and_the_deployer_grant_left_out() -> None:
    options = {"ingress": "internal", "deployer_invoker": False}
    run = synth(base_spec("dev", tracking={"options": options}))
    assert run.inputs(SERVICE, "mlops-tracking-service")["ingress"] == (
        "INGRESS_TRAFFIC_INTERNAL_ONLY"
    )
    assert [n for n in run.names(SERVICE_IAM) if n.startswith("mlops-tracking")] == []


@pytest.mark.parametrize(
    ("email", "member"),
    [
        ("ci@acme-ml.iam.gserviceaccount.com", "serviceAccount:ci@acme-ml.iam.gserviceaccount.com"),
        ("alice@acme.com", "user:alice@acme.com"),
        (None, "user:deployer-unknown-offline"),
    ],
)
def test_deployer_member(email: str | None, member: str) -> None:
    from mlops_infra.backends.gcp.tracking_server import deployer_member

    assert deployer_member(email) == member


def test_the_gate_authenticates_with_the_cloud_run_hook() -> None:
    from mlops_infra.backends.gcp import mlflow_auth
    from mlops_infra.backends.gcp.tracking_server import CLIENT_AUTH

    # The program names the hook without importing it (MLflow is heavy).
    assert CLIENT_AUTH == mlflow_auth.CLIENT_AUTH
    run = synth(base_spec("dev", endpoints=[{"name": "m", "model": "m", "external_model": True}]))
    gate = run.inputs("pulumi-python:dynamic/mlops:PromotionDecision", "mlops-endpoint-m-gate")
    assert gate["client_auth"] == CLIENT_AUTH


@pytest.mark.parametrize(
    ("url", "hook"),
    [
        ("https://mlflow-424242.europe-west4.run.app", True),
        ("https://mlflow.internal.example.com", False),
    ],
)
def test_an_adopted_cloud_run_server_gets_the_hook(url: str, hook: bool) -> None:
    from mlops_infra.backends.gcp.tracking_server import CLIENT_AUTH

    spec = base_spec(
        "dev",
        tracking={"existing": {"url": url}},
        endpoints=[{"name": "m", "model": "m", "external_model": True}],
    )
    gate = synth(spec).inputs(
        "pulumi-python:dynamic/mlops:PromotionDecision", "mlops-endpoint-m-gate"
    )
    assert gate.get("client_auth") == (CLIENT_AUTH if hook else None)


def test_dev_server_scales_to_zero(dev: ProgramRun) -> None:
    template = dev.inputs(SERVICE, "mlops-tracking-service")["template"]
    assert template["scaling"]["minInstanceCount"] == 0


def test_mlflow_runs_with_basic_auth_job_execution_off_and_pinned_hosts(prod: ProgramRun) -> None:
    container = _container(prod)
    # Plain `mlflow server`: the workloads' users are written by `pulumi up` (issue 14.9),
    # no shared user is bootstrapped in the container any more.
    assert container["commands"] == ["mlflow", "server"]
    args = container["args"]
    assert "--no-serve-artifacts" in args
    assert args[args.index("--app-name") + 1] == "basic-auth"
    env = {e["name"]: e for e in container["envs"]}
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"]["value"] == "false"
    service_name = prod.inputs(SERVICE, "mlops-tracking-service")["name"]
    assert env["MLFLOW_SERVER_ALLOWED_HOSTS"]["value"] == (
        f"{service_name}-*.{REGION}.run.app,{service_name}-*.a.run.app"
    )
    assert env["MLFLOW_DEFAULT_ARTIFACT_ROOT"]["value"] == "gs://mlops-store-a1b2c3d/mlflow"
    assert env["MLFLOW_AUTH_CONFIG_PATH"]["value"] == "/etc/mlflow-auth/basic_auth.ini"
    for variable in (
        "MLFLOW_BACKEND_STORE_URI",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    ):
        ref = env[variable]["valueSource"]["secretKeyRef"]
        assert ref["version"] == "1"
        assert "value" not in env[variable]
    repository = prod.inputs("gcp:artifactregistry/repository:Repository", "mlops-registry")
    registry = f"{REGION}-docker.pkg.dev/{PROJECT}/{repository['repositoryId']}"
    # Built by the stack (Cloud Build): the release's server image, tagged by its content.
    tag = mlflow_server_source("3.11", "google-cloud-storage>=2.14").tag
    assert container["image"] == f"{registry}/mlflow-server:{tag}"
    build = prod.inputs(
        "pulumi-python:dynamic/mlops:CloudBuildImage", "mlops-tracking-mlflow-server-image"
    )
    assert (build["image_name"], build["tag"]) == ("mlflow-server", tag)


def test_auth_config_is_mounted_from_secret_manager(prod: ProgramRun) -> None:
    template = prod.inputs(SERVICE, "mlops-tracking-service")["template"]
    volume = template["volumes"][0]
    assert volume["secret"]["items"] == [{"path": "basic_auth.ini", "version": "1"}]
    assert volume["secret"]["defaultMode"] == 0o400
    auth = prod.one(SECRET_VERSION, "mlops-tracking-auth-config-value").plain_inputs()
    ini = auth["secretData"]
    assert "default_permission = NO_PERMISSIONS" in ini
    assert "database_uri = postgresql://mlflow:" in ini
    assert "@10.99.0.3:5432/mlflow?sslmode=require" in ini
    # MLflow 3.11 reads the admin password from this file only (not the environment).
    admin = prod.one(SECRET_VERSION, "mlops-tracking-admin-password-value").plain_inputs()
    assert f"admin_password = {admin['secretData']}\n" in ini


def test_auth_config_escapes_interpolation_as_mlflow_reads_it(tmp_path: Path) -> None:
    import configparser

    path = tmp_path / "basic_auth.ini"
    path.write_text(auth_config("sqlite:///a.db", "pa%ss"), encoding="utf-8")
    # What mlflow.server.auth.config.read_auth_config does (3.11 and 3.17).
    config = configparser.ConfigParser()
    config.read(path)
    assert config["mlflow"]["admin_username"] == "admin"
    assert config["mlflow"]["admin_password"] == "pa%ss"
    assert config["mlflow"]["default_permission"] == "NO_PERMISSIONS"


def test_secrets_are_cmek_regional_and_readable_by_the_server_only(prod: ProgramRun) -> None:
    expected = {
        "mlops-tracking-admin-password",
        "mlops-tracking-auth-config",
        "mlops-tracking-db-uri",
        "mlops-tracking-flask-secret",
    }
    assert set(prod.names(SECRET)) == expected
    for name in expected:
        secret = prod.inputs(SECRET, name)
        replica = secret["replication"]["userManaged"]["replicas"][0]
        assert replica["location"] == REGION
        assert replica["customerManagedEncryption"]["kmsKeyName"].endswith("/cryptoKeys/mlops-key")
        assert secret["versionDestroyTtl"] == f"{7 * 86400}s"
        reader = prod.inputs(SECRET_IAM, f"{name}-reader-server")
        assert reader["role"] == "roles/secretmanager.secretAccessor"
        assert reader["member"] == f"serviceAccount:{_server_email(prod)}"
        assert reader["secretId"] == f"projects/{PROJECT}/secrets/{secret['secretId']}"
    for version in prod.of_type(SECRET_VERSION):
        from mlops_infra.offline import is_secret

        assert is_secret(version.inputs["secretData"]), version.name


def test_server_identity_gets_object_access_on_the_bucket_only(prod: ProgramRun) -> None:
    grant = prod.inputs(BUCKET_IAM, "mlops-tracking-artifacts")
    assert grant == {
        "bucket": "mlops-store-a1b2c3d",
        "role": "roles/storage.objectUser",
        "member": f"serviceAccount:{_server_email(prod)}",
    }
    # Project-wide: only the image builder's log writing (Cloud Logging has no finer scope).
    assert prod.names("gcp:projects/iAMMember:IAMMember") == ["mlops-tracking-builder-logs"]


def test_tracking_reference_is_the_deterministic_url_with_admin_credentials(
    prod: ProgramRun,
) -> None:
    service_name = prod.inputs(SERVICE, "mlops-tracking-service")["name"]
    tracking = [r for r in prod.registrations if r.type == "mlops:index:TrackingServer"]
    assert len(tracking) == 1
    # The stack output carries the URL.
    from mlops_infra.offline import unwrap_secrets

    outputs = unwrap_secrets(prod.outputs)
    assert outputs["tracking_url"] == f"https://{service_name}-{NUMBER}.{REGION}.run.app"


def test_without_auth_no_admin_secrets_are_made() -> None:
    run = synth(base_spec("dev", tracking={"auth": False}))
    assert run.names(SECRET) == ["mlops-tracking-db-uri"]
    container = run.inputs(SERVICE, "mlops-tracking-service")["template"]["containers"][0]
    assert "--app-name" not in container["args"]
    assert container["commands"] == ["mlflow", "server"]


def test_a_network_is_required() -> None:
    spec = base_spec("dev")
    del spec["network"]
    with pytest.raises(BackendError, match=r"network\.create: true"):
        synth(spec)


def test_an_image_is_required_without_a_registry() -> None:
    with pytest.raises(BackendError, match=r"options\.image"):
        synth(base_spec("dev", registry={"create": False}))
    run = synth(
        base_spec(
            "dev",
            registry={"create": False},
            tracking={"options": {"image": "europe-docker.pkg.dev/acme/tools/mlflow:3.11"}},
        )
    )
    assert _container(run)["image"] == "europe-docker.pkg.dev/acme/tools/mlflow:3.11"


def test_a_purged_database_sends_no_final_backup_retention() -> None:
    """14.3: Cloud SQL answers a retention with the final backup off with 400 ("Final backup
    retention days cannot be set when final backup is disabled")."""
    run = synth(base_spec("dev", tracking={"purge_on_delete": True}))
    db = run.one(SQL, "mlops-tracking-db").plain_inputs()
    assert db["settings"]["finalBackupConfig"] == {"enabled": False}
    assert db["settings"]["retainBackupsOnDelete"] is False


@pytest.mark.parametrize(
    ("environment", "size", "options", "tier"),
    [
        ("dev", "small", {}, "db-g1-small"),
        ("sandbox", "small", {}, "db-g1-small"),
        ("dev", "medium", {}, "db-custom-2-7680"),
        ("dev", "small", {"database_tier": "db-custom-1-3840"}, "db-custom-1-3840"),
        ("staging", "small", {}, "db-custom-1-3840"),
        ("prod", "small", {}, "db-custom-1-3840"),
    ],
)
def test_a_small_development_database_is_shared_core(
    environment: str, size: str, options: dict[str, Any], tier: str
) -> None:
    """Issue 14.12: the dev database ran a dedicated core around the clock; shared core
    costs less than half (cloud.google.com/sql/pricing) and has no SLA (sql/sla)."""
    from mlops_infra.backends.gcp.tracking_server import database_tier

    tiers = {"dev": "development", "sandbox": "development", "staging": "staging"}
    assert (
        database_tier(size, tiers.get(environment, "production"), options.get("database_tier"))
        == tier
    )
    run = synth(
        base_spec(environment, tracking={"size": size, "options": options}), stack=environment
    )
    assert run.inputs(SQL, "mlops-tracking-db")["settings"]["tier"] == tier


def test_production_secrets_are_protected_and_retained(prod: ProgramRun, dev: ProgramRun) -> None:
    """MLOPS-PROT-001 on a production variant of gcp-dev: secrets hold data (the database
    URI, passwords) and were neither protected nor retained."""
    secrets = prod.of_type(SECRET)
    assert sorted(s.name for s in secrets) == [
        "mlops-tracking-admin-password",
        "mlops-tracking-auth-config",
        "mlops-tracking-db-uri",
        "mlops-tracking-flask-secret",
    ]
    assert all(s.protect and s.retain_on_delete for s in secrets)
    assert not any(s.protect or s.retain_on_delete for s in dev.of_type(SECRET))
