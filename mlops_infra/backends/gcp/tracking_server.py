"""MLflow tracking server on Cloud Run over a private Cloud SQL PostgreSQL database.

* Cloud Run service: no public invoker (callers need ``roles/run.invoker`` on this
  service and MLflow basic auth); ingress from anywhere by default, because Vertex jobs
  (peered networks do not count as the VPC for Cloud Run's internal ingress) and the
  gate on the deployer's machine must reach it (``options.ingress: internal`` keeps it to
  the VPC); the deployer gets ``run.invoker`` and the gate sends an ID token
  (:mod:`.mlflow_auth`); its own service account with
  ``roles/storage.objectUser`` on the artifact bucket only and read access to its own
  secrets only; direct VPC egress to reach the database; job execution off; allowed
  hosts pinned to the service's own ``run.app`` names (DNS-rebinding protection).
* Artifacts go straight to ``gs://<bucket>/mlflow`` (``--no-serve-artifacts``): clients
  and model servers read and write GCS with their own identities, and large uploads
  never pass Cloud Run's request size limit.
* Cloud SQL: PostgreSQL with a private IP only (no public IP, TLS required), backups
  always, point-in-time recovery, deletion protection and regional HA in production; a
  final backup is kept when the instance is deleted unless ``purge_on_delete``.
* Secrets: database URI, basic-auth config, admin password and Flask secret in Secret
  Manager (CMEK), given to the container as environment variables and a mounted file.
* Users: the admin (basic auth's own, for the deployer: gate, alias, run lookup, and the
  workloads' users); each training job and pipeline gets its own user with ``EDIT`` on its
  experiment and registered model only, written by ``pulumi up``
  (:mod:`.mlflow_users`, ``TrackingRef.workload_users``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
from pulumi_gcp import cloudrunv2, organizations, serviceaccount, sql

from mlops_infra.backends.gcp._cloudrun import (
    INVOKER,
    MAX_SERVICE_NAME,
    STARTUP_PROBE_BUDGET_S,
    STARTUP_PROBE_PERIOD_S,
    service_url,
)
from mlops_infra.backends.gcp._iam import MLFLOW_ROOT, OBJECT_USER, bucket_member, service_account
from mlops_infra.backends.gcp._image_builder import context_image
from mlops_infra.backends.gcp._naming import fmt, gcp_labels, physical_name
from mlops_infra.backends.gcp._scope import project_id, project_number, region_of, subnet_of
from mlops_infra.backends.gcp._secrets import GeneratedPassword, StoredSecret, store_secret
from mlops_infra.backends.gcp.options import CloudRunTrackingOptions
from mlops_infra.errors import BackendError
from mlops_infra.images import mlflow_server_source
from mlops_infra.resources import (
    BuildContext,
    TrackingRef,
    TrackingServerArgs,
    TrackingServerBackend,
)
from mlops_infra.specs import ExistingTrackingServer, TrackingServerSpec, effective_tracking

__all__ = [
    "ADMIN_USER",
    "CLIENT_AUTH",
    "DATABASE_TIERS",
    "DEVELOPMENT_DATABASE_TIER",
    "PRODUCTION_DATABASE_FLAGS",
    "CloudRunTrackingServer",
    "auth_config",
    "database_tier",
    "deployer_member",
]

CLIENT_AUTH = "mlops_infra.backends.gcp.mlflow_auth:cloud_run_client_env"
"""MLflow client-auth hook of the Cloud Run tracking server (ID token for its URL)."""

_INGRESS = {"all": "INGRESS_TRAFFIC_ALL", "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY"}


def deployer_member(email: str | None) -> str:
    """Returns the IAM member of the deployer's identity (a service account or a user).

    ``email`` is ``None`` in offline plans, which cannot ask Google who is deploying.
    """
    if not email:
        return "user:deployer-unknown-offline"
    kind = "serviceAccount" if email.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{email}"


ADMIN_USER = "admin"
"""Basic-auth admin user."""

DATABASE_TIERS = {
    "small": "db-custom-1-3840",
    "medium": "db-custom-2-7680",
    "large": "db-custom-4-15360",
}
"""Cloud SQL tier per tracking ``size``."""

DEVELOPMENT_DATABASE_TIER = "db-g1-small"
"""Cloud SQL tier of a ``small`` tracking server in local and development environments: a
shared-core instance (1.7 GB), less than half of ``db-custom-1-3840``'s price per hour
(https://cloud.google.com/sql/pricing). The Cloud SQL SLA leaves shared-core instances out
(https://cloud.google.com/sql/sla), hence development only."""


PRODUCTION_DATABASE_FLAGS = {
    "log_checkpoints": "on",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_lock_waits": "on",
    "log_hostname": "on",
    "log_min_messages": "error",
    "log_min_error_statement": "error",
    "cloudsql.enable_pgaudit": "on",
    "pgaudit.log": "ddl,role",
}
"""Database flags of a production instance: PostgreSQL's connection, checkpoint, lock-wait
and error logging (https://cloud.google.com/sql/docs/postgres/flags) and pgAudit recording
schema and privilege changes (https://cloud.google.com/sql/docs/postgres/pg-audit; MLflow's
own writes are left out: ``write`` would log every run and metric)."""


def database_tier(size: str, tier: str, given: str | None) -> str:
    """Returns the Cloud SQL tier: ``given``, else by ``size`` (shared core in development)."""
    if given:
        return given
    if size == "small" and tier in ("local", "development"):
        return DEVELOPMENT_DATABASE_TIER
    return DATABASE_TIERS[size]


_RESOURCES = {
    "small": {"cpu": "1", "memory": "2Gi"},
    "medium": {"cpu": "2", "memory": "4Gi"},
    "large": {"cpu": "4", "memory": "8Gi"},
}
_WORKERS = {"small": 2, "medium": 4, "large": 8}
_PORT = 8080
_DATABASE = "mlflow"
_DB_USER = "mlflow"
_AUTH_DIR = "/etc/mlflow-auth"
_AUTH_FILE = "basic_auth.ini"


def auth_config(database_uri: str, admin_password: str) -> str:
    """Returns MLflow's basic-auth config: deny by default, users kept in PostgreSQL.

    The admin password (used at the first start only) is in the file: MLflow 3.11 reads it
    from there alone (``read_auth_config`` fails without it), later releases prefer
    ``MLFLOW_AUTH_ADMIN_PASSWORD``, which the container gets too. ``%`` is doubled:
    MLflow reads the file with ``configparser``'s interpolation.
    """
    return (
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {ADMIN_USER}\n"
        f"admin_password = {admin_password.replace('%', '%%')}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
    )


@dataclass(frozen=True)
class _Secrets:
    """The server's secrets: environment variables from Secret Manager, the auth file."""

    env: dict[str, StoredSecret]
    auth_file: StoredSecret | None
    admin_password: pulumi.Output[str] | None

    @property
    def resources(self) -> list[pulumi.Resource]:
        stored = [*self.env.values(), *([self.auth_file] if self.auth_file else [])]
        return [r for secret in stored for r in secret.resources]


class CloudRunTrackingServer(TrackingServerBackend):
    """MLflow on Cloud Run with Cloud SQL PostgreSQL, reachable from the VPC only."""

    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        """Creates the database, secrets, identity and service; returns the tracking URI."""
        options = ctx.options_as(CloudRunTrackingOptions)
        foundation = ctx.args.foundation
        if foundation is None or foundation.network_id is None or not foundation.private_subnet_ids:
            msg = (
                f"{ctx.name}: the cloud-run tracking server keeps its database on a private IP "
                "and needs a VPC network; set network.create: true or network.existing in the "
                "stack spec"
            )
            raise BackendError(msg)
        built = (
            None
            if options.image
            else context_image(
                ctx, foundation, ctx.args.store.uri,
                mlflow_server_source(spec.mlflow_version, "google-cloud-storage>=2.14"),
                what=f"the MLflow {spec.mlflow_version} server image",
                instead=(
                    "set options.image (an image with mlflow[auth], psycopg2 and "
                    "google-cloud-storage)"
                ),
            )
        )  # fmt: skip
        image: pulumi.Input[str] = options.image or (built.image if built else "")
        region = region_of(ctx)
        profile = ctx.target.profile
        auth = bool(effective_tracking(spec, profile).auth)
        account = service_account(ctx, "server", "MLflow tracking server")
        bucket_grant = bucket_member(ctx, "artifacts", ctx.args.store.uri, account, OBJECT_USER)
        user, database_uri = self._database(
            ctx, spec, options, foundation.network_id, foundation.service_ranges.get("sql")
        )
        secrets = self._secrets(
            ctx,
            database_uri,
            auth=auth,
            region=region,
            key=foundation.encryption_key,
            account=account,
        )
        name = physical_name(ctx.name, max_length=MAX_SERVICE_NAME, salt=ctx.stack_name)
        labels = gcp_labels(ctx.tags())
        minimum = 1 if profile.is_production else 0
        service = cloudrunv2.Service(
            ctx.child_name("service"),
            name=name,
            location=region,
            project=project_id(),
            description=f"MLflow tracking server of stack {ctx.stack_name}",
            # Reachable from Vertex jobs (peered, not counted as the VPC's traffic) and from
            # the deployer's machine (the gate), each with an ID token of an invoker and
            # MLflow's basic auth; "internal" keeps it to the VPC (see options.ingress).
            ingress=_INGRESS[options.ingress],
            invoker_iam_disabled=False,
            # Stateless: Pulumi's protect guards it where needed; the provider's own flag
            # (on by default) would make every destroy fail.
            deletion_protection=False,
            labels=labels,
            template=cloudrunv2.ServiceTemplateArgs(
                service_account=account.email,
                timeout="300s",
                max_instance_request_concurrency=80,
                execution_environment="EXECUTION_ENVIRONMENT_GEN2",
                scaling=cloudrunv2.ServiceTemplateScalingArgs(
                    min_instance_count=(
                        options.min_instances if options.min_instances is not None else minimum
                    ),
                    max_instance_count=options.max_instances,
                ),
                vpc_access=cloudrunv2.ServiceTemplateVpcAccessArgs(
                    egress="PRIVATE_RANGES_ONLY",
                    network_interfaces=[
                        cloudrunv2.ServiceTemplateVpcAccessNetworkInterfaceArgs(
                            subnetwork=subnet_of(foundation.private_subnet_ids)
                        )
                    ],
                ),
                containers=[
                    self._container(
                        ctx, spec, image=image, name=name, region=region, secrets=secrets
                    )
                ],
                volumes=self._volumes(secrets),
                labels=labels,
            ),
            opts=ctx.opts(
                depends_on=[
                    bucket_grant,
                    user,
                    *secrets.resources,
                    *(built.resources if built else []),
                ]
            ),
        )
        # From the service's outputs: grants on it wait until it exists (issue 14 item 2).
        url = service_url(service.name, region, project_number())
        if options.deployer_invoker:
            self._deployer_invoker(ctx, service)
        if secrets.admin_password is None:
            return TrackingRef(url=url, client_auth=CLIENT_AUTH)
        # The admin stays the deployer's (gate, alias, run lookup); each workload gets its
        # own user, which the deployer's `up` writes as the admin (mlflow_users.py).
        return TrackingRef(
            url=url,
            username=ADMIN_USER,
            password=secrets.admin_password,
            workload_users=True,
            client_auth=CLIENT_AUTH,
        )

    def adopt(
        self, ctx: BuildContext[TrackingServerArgs], existing: ExistingTrackingServer
    ) -> TrackingRef:
        """A server run elsewhere; one on Cloud Run (``*.run.app``) gets the ID-token hook."""
        cloud_run = urlsplit(existing.url).hostname or ""
        return TrackingRef(
            url=existing.url,
            username=existing.username,
            password=ctx.args.admin_password,
            client_auth=CLIENT_AUTH if cloud_run.endswith(".run.app") else None,
        )

    @staticmethod
    def _deployer_invoker(
        ctx: BuildContext[TrackingServerArgs], service: cloudrunv2.Service
    ) -> cloudrunv2.ServiceIamMember:
        """Lets the identity running ``pulumi up`` call the service (the gate, the alias)."""
        email = organizations.get_client_open_id_user_info_output().email
        member = pulumi.Output.from_input(email).apply(deployer_member)
        return cloudrunv2.ServiceIamMember(
            ctx.child_name("deployer-invoker"),
            name=service.name,
            location=service.location,
            project=project_id(),
            role=INVOKER,
            member=member,
            opts=ctx.opts(),
        )

    @staticmethod
    def _database(
        ctx: BuildContext[TrackingServerArgs],
        spec: TrackingServerSpec,
        options: CloudRunTrackingOptions,
        network_id: pulumi.Input[str | None],
        ip_range: pulumi.Input[str] | None,
    ) -> tuple[sql.User, pulumi.Output[str]]:
        """Creates the instance, database and user; returns the user and the database URI."""
        profile = ctx.target.profile
        production = profile.is_production
        high_availability = (
            spec.high_availability if spec.high_availability is not None else production
        )
        protect = ctx.target.protects_stateful
        instance = sql.DatabaseInstance(
            ctx.child_name("db"),
            region=region_of(ctx),
            project=project_id(),
            database_version=options.database_version,
            deletion_protection=protect,
            settings=sql.DatabaseInstanceSettingsArgs(
                tier=database_tier(spec.size, profile.tier, options.database_tier),
                edition="ENTERPRISE",
                availability_type="REGIONAL" if high_availability else "ZONAL",
                disk_size=spec.database_storage_gib,
                disk_autoresize=True,
                disk_type="PD_SSD",
                deletion_protection_enabled=protect,
                ip_configuration=sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=network_id,
                    # The created network's Cloud SQL range (none: any range of the peering).
                    allocated_ip_range=ip_range,
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                backup_configuration=sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    start_time="03:00",
                    point_in_time_recovery_enabled=production,
                    transaction_log_retention_days=min(spec.backup_retention_days, 7),
                    backup_retention_settings=(
                        sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                            retained_backups=spec.backup_retention_days, retention_unit="COUNT"
                        )
                    ),
                ),
                # Deleting the instance keeps its backups unless the data is to be purged.
                retain_backups_on_delete=not spec.purge_on_delete,
                # Cloud SQL refuses a retention with the final backup off (400 "Final backup
                # retention days cannot be set when final backup is disabled"; reported on
                # the Terraform Google provider's tracker): retention only when it is on.
                final_backup_config=sql.DatabaseInstanceSettingsFinalBackupConfigArgs(
                    enabled=not spec.purge_on_delete,
                    retention_days=None if spec.purge_on_delete else spec.backup_retention_days,
                ),
                maintenance_window=sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=3, update_track="stable"
                ),
                database_flags=[
                    sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=flag, value=value)
                    for flag, value in (PRODUCTION_DATABASE_FLAGS.items() if production else ())
                ],
                user_labels=gcp_labels(ctx.tags()),
            ),
            # Autoresize grows the disk; a smaller configured size must not shrink it back.
            opts=ctx.opts(stateful=True, ignore_changes=["settings.diskSize"]),
        )
        database = sql.Database(
            ctx.child_name("database"),
            name=_DATABASE,
            instance=instance.name,
            project=project_id(),
            opts=ctx.opts(stateful=True),
        )
        password = GeneratedPassword(ctx.child_name("db-password"), 32, ctx.opts())
        user = sql.User(
            ctx.child_name("db-user"),
            name=_DB_USER,
            instance=instance.name,
            password=password.value,
            project=project_id(),
            # PostgreSQL refuses to drop a role that owns objects; the instance goes anyway.
            deletion_policy="ABANDON",
            opts=ctx.opts(depends_on=[database]),
        )
        uri = fmt(
            "postgresql://{}:{}@{}:5432/{}?sslmode=require",
            _DB_USER,
            password.value,
            instance.private_ip_address,
            _DATABASE,
        )
        return user, pulumi.Output.secret(uri)

    @staticmethod
    def _secrets(
        ctx: BuildContext[TrackingServerArgs],
        database_uri: pulumi.Output[str],
        *,
        auth: bool,
        region: str,
        key: pulumi.Input[str | None] | None,
        account: serviceaccount.Account,
    ) -> _Secrets:
        """Stores the server's secrets, readable by its own identity only."""
        readers = {"server": account}

        def store(role: str, value: pulumi.Input[str]) -> StoredSecret:
            return store_secret(
                ctx, role, value, region=region, encryption_key=key, readers=readers
            )

        env = {"MLFLOW_BACKEND_STORE_URI": store("db-uri", database_uri)}
        if not auth:
            return _Secrets(env=env, auth_file=None, admin_password=None)
        admin_password = pulumi.Output.secret(
            ctx.args.admin_password
            or GeneratedPassword(ctx.child_name("admin-password"), 24, ctx.opts()).value
        )
        flask_secret = GeneratedPassword(ctx.child_name("flask-secret"), 48, ctx.opts())
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = store("admin-password", admin_password)
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = store("flask-secret", flask_secret.value)
        config = pulumi.Output.all(database_uri, admin_password).apply(
            lambda values: auth_config(str(values[0]), str(values[1]))
        )
        auth_file = store("auth-config", pulumi.Output.secret(config))
        return _Secrets(env=env, auth_file=auth_file, admin_password=admin_password)

    @staticmethod
    def _container(
        ctx: BuildContext[TrackingServerArgs],
        spec: TrackingServerSpec,
        *,
        image: pulumi.Input[str],
        name: str,
        region: str,
        secrets: _Secrets,
    ) -> cloudrunv2.ServiceTemplateContainerArgs:
        """Returns the ``mlflow server`` container: plain settings, then secret variables."""
        env = [
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="MLFLOW_DEFAULT_ARTIFACT_ROOT",
                value=pulumi.Output.from_input(ctx.args.store.uri).apply(
                    lambda u: f"{u}/{MLFLOW_ROOT}"
                ),
            ),
            # MLflow's job execution adds an unauthenticated job API; keep it off.
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="MLFLOW_SERVER_ENABLE_JOB_EXECUTION", value="false"
            ),
            # Host-header check: only this service's run.app names (both URL formats).
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name="MLFLOW_SERVER_ALLOWED_HOSTS",
                value=f"{name}-*.{region}.run.app,{name}-*.a.run.app",
            ),
        ]
        env += [
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name=variable,
                value_source=cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                    secret_key_ref=(
                        cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                            secret=stored.secret_id, version=stored.version.version
                        )
                    )
                ),
            )
            for variable, stored in secrets.env.items()
        ]
        args = ["--host", "0.0.0.0", "--port", str(_PORT), "--no-serve-artifacts"]  # noqa: S104 - inside the container; ingress is internal
        args += ["--workers", str(_WORKERS[spec.size])]
        mounts: list[cloudrunv2.ServiceTemplateContainerVolumeMountArgs] = []
        if secrets.auth_file is not None:
            args += ["--app-name", "basic-auth"]
            env.append(
                cloudrunv2.ServiceTemplateContainerEnvArgs(
                    name="MLFLOW_AUTH_CONFIG_PATH", value=f"{_AUTH_DIR}/{_AUTH_FILE}"
                )
            )
            mounts.append(
                cloudrunv2.ServiceTemplateContainerVolumeMountArgs(
                    name="auth-config", mount_path=_AUTH_DIR
                )
            )
        return cloudrunv2.ServiceTemplateContainerArgs(
            image=image,
            commands=["mlflow", "server"],
            args=args,
            ports=cloudrunv2.ServiceTemplateContainerPortsArgs(name="http1", container_port=_PORT),
            envs=env,
            resources=cloudrunv2.ServiceTemplateContainerResourcesArgs(
                limits=_RESOURCES[spec.size], startup_cpu_boost=True
            ),
            # /health answers without auth and without the host-header check.
            startup_probe=cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                http_get=cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs(
                    path="/health", port=_PORT
                ),
                # Cloud Run allows at most 240 s of failures after the delay (was 300 s).
                initial_delay_seconds=5,
                period_seconds=STARTUP_PROBE_PERIOD_S,
                failure_threshold=STARTUP_PROBE_BUDGET_S // STARTUP_PROBE_PERIOD_S,
            ),
            volume_mounts=mounts,
        )

    @staticmethod
    def _volumes(secrets: _Secrets) -> list[cloudrunv2.ServiceTemplateVolumeArgs]:
        """Returns the auth config file, mounted read-only for the server alone."""
        if secrets.auth_file is None:
            return []
        return [
            cloudrunv2.ServiceTemplateVolumeArgs(
                name="auth-config",
                secret=cloudrunv2.ServiceTemplateVolumeSecretArgs(
                    secret=secrets.auth_file.secret_id,
                    default_mode=0o400,
                    items=[
                        cloudrunv2.ServiceTemplateVolumeSecretItemArgs(
                            path=_AUTH_FILE, version=secrets.auth_file.version.version
                        )
                    ],
                ),
            )
        ]
