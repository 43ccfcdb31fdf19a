"""Self-hosted MLflow: ECS Fargate behind an internal load balancer, over RDS PostgreSQL.

Children of the ``TrackingServer`` component ``<name>`` (all in the stack's private network):

* ``<name>-lb`` / ``-service`` / ``-db`` security groups: clients (the stack's workloads
  and ``allowed_cidrs``) → load balancer → MLflow tasks → database, nothing else.
* ``<name>-db`` RDS PostgreSQL (+ ``-db-subnets``): encrypted with the stack key, private,
  Multi-AZ with high availability, backups, master password managed by RDS in Secrets
  Manager; in production deletion protection and a final snapshot, and Pulumi protect.
* ``<name>-credentials`` Secrets Manager secret (write-only value): the MLflow admin
  password and the Flask session key, generated once (``<name>-admin-password``,
  ``<name>-flask-key``) unless ``admin_password_config_key`` gives the password.
* ``<name>-cluster``, ``<name>-logs``, ``<name>-task`` (``-execution``/``-task-role``
  roles), ``<name>`` ECS service, ``<name>-alb`` internal ALB, ``-targets``, ``-listener``.
* Unless ``options.image`` names one, the server's image, built by the stack:
  ``<name>-builder`` (+ role), ``<name>-mlflow-server-context``, ``<name>-mlflow-server-image``
  (``mlflow[auth]`` at ``mlflow_version``, psycopg2, boto3; tag ``mlflow-server-<hash>``).

MLflow runs with basic auth on (``default_permission = NO_PERMISSIONS``), artifacts served
from the store's ``mlflow/`` prefix, job execution off, host-header checks on.
"""

from __future__ import annotations

import pulumi
from pulumi_aws import cloudwatch, ec2, ecs, lb, rds, route53, vpc

from mlops_infra.backends.aws._generated_secret import GeneratedSecret
from mlops_infra.backends.aws._iam import (
    ecr_pull,
    ecr_repository_arn,
    kms_use,
    logs_write,
    s3_write,
    service_role,
    statement,
)
from mlops_infra.backends.aws._image_builder import PYTHON_BASE_IMAGE, context_image
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope, WorkloadNetwork, network_of
from mlops_infra.backends.aws._secrets import write_only_secret
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws.options import SelfHostedTrackingOptions
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.errors import BackendError
from mlops_infra.images import mlflow_server_source
from mlops_infra.outputs import concat
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import (
    BuildContext,
    FoundationRef,
    TrackingRef,
    TrackingServerArgs,
    TrackingServerBackend,
)
from mlops_infra.specs import TrackingServerSpec, effective_tracking

resolve_sdk_names_on_demand()

__all__ = ["ADMIN_USER", "LAUNCHER", "RDS_MIN_STORAGE_GIB", "SelfHostedMlflow"]

ADMIN_USER = "admin"
"""MLflow's admin user (basic auth)."""

_PORT = 5000
_DB_PORT = 5432
_DB_NAME = "mlflow"
_DB_USER = "mlflow"

LAUNCHER = """\
import os, urllib.parse
password = urllib.parse.quote(os.environ.pop("DB_PASSWORD"), safe="")
db = "postgresql://{}:{}@{}:{}/{}".format(
    os.environ["DB_USER"], password, os.environ["DB_HOST"], os.environ["DB_PORT"],
    os.environ["DB_NAME"])
with open("/tmp/basic_auth.ini", "w") as f:
    f.write("[mlflow]\\ndefault_permission = NO_PERMISSIONS\\n"
            "database_uri = " + db.replace("%", "%%") + "\\n"
            "admin_username = " + os.environ["ADMIN_USER"] + "\\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\\n")
os.environ.update(MLFLOW_AUTH_CONFIG_PATH="/tmp/basic_auth.ini", MLFLOW_BACKEND_STORE_URI=db)
os.execvp("mlflow", ["mlflow", "server", "--host", "0.0.0.0", "--port", os.environ["PORT"],
                     "--app-name", "basic-auth", "--serve-artifacts"])
"""
"""Container entry: builds the database URI from the injected secret (URL-encoded, never on
the command line), writes the basic-auth config and starts ``mlflow server``."""


def _require(value: pulumi.Input[str | None] | None, what: str) -> pulumi.Output[str]:
    def check(resolved: str | None) -> str:
        if resolved is None:
            msg = f"self-hosted MLflow needs {what}"
            raise BackendError(msg)
        return resolved

    return pulumi.Output.from_input(value).apply(check)


RDS_MIN_STORAGE_GIB = 20
"""Smallest gp3 volume of RDS for PostgreSQL
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage)."""


class SelfHostedMlflow(TrackingServerBackend):
    """MLflow with basic auth on ECS Fargate, RDS PostgreSQL and an internal ALB."""

    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        """Creates the network rules, database, secrets, service and load balancer."""
        options = ctx.options_as(SelfHostedTrackingOptions)
        foundation = ctx.args.foundation or FoundationRef()
        network = network_of(foundation)
        if network is None:
            msg = (
                f"{ctx.name}: the self-hosted tracking server runs in the stack's private "
                "network; set network.create: true or network.existing in the stack spec"
            )
            raise BackendError(msg)
        if spec.database_storage_gib < RDS_MIN_STORAGE_GIB:
            msg = (
                f"{ctx.name}: database_storage_gib {spec.database_storage_gib} is below what "
                f"RDS gp3 storage allows; allowed: {RDS_MIN_STORAGE_GIB} to 16384"
            )
            raise BackendError(msg)
        tier = ctx.target.profile.tier
        if options.certificate_arn is None and tier not in ("local", "development"):
            msg = (
                f"{ctx.name}: tracking.options.certificate_arn and tracking.options.domain are "
                f"required in the {tier} tier (a plain-HTTP listener would carry "
                "basic-auth credentials unencrypted); allowed without them: development"
            )
            raise BackendError(msg)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        region = scope.region_override
        store = StoreLocation.of(ctx.args.store, scope)
        built = (
            None
            if options.image
            else context_image(
                ctx, scope, store, foundation,
                mlflow_server_source(spec.mlflow_version, "boto3>=1.34",
                                     base_image=PYTHON_BASE_IMAGE),
                what=f"the MLflow {spec.mlflow_version} server image",
                instead="set options.image (an image with mlflow[auth], psycopg2 and boto3)",
            )
        )  # fmt: skip
        image: pulumi.Input[str] = options.image or (built.image if built else "")
        key = _require(foundation.encryption_key, "the stack's KMS key")
        high_availability = bool(effective_tracking(spec, ctx.target.profile).high_availability)
        protect = ctx.target.protects_stateful and not spec.purge_on_delete
        groups = self._security_groups(ctx, scope, network, options)
        database = self._database(ctx, scope, network, spec, options, key=key, group=groups["db"],
                                  high_availability=high_availability, protect=protect)  # fmt: skip

        admin_password: pulumi.Input[str] = (
            ctx.args.admin_password
            or GeneratedSecret(ctx.child_name("admin-password"), 24, ctx.opts()).value
        )
        flask_key = GeneratedSecret(ctx.child_name("flask-key"), 48, ctx.opts()).value
        credentials = write_only_secret(
            ctx,
            scope,
            "credentials",
            pulumi.Output.json_dumps(
                {"admin_password": admin_password, "flask_secret_key": flask_key}
            ),
            key_arn=key,
            description=f"MLflow {ctx.name}: admin password and session key",
            stateful=True,
        )
        db_secret: pulumi.Output[str] = database.master_user_secrets.apply(
            lambda secrets: str(secrets[0].secret_arn) if secrets else ""
        )
        logs = cloudwatch.LogGroup(
            ctx.child_name("logs"),
            name=f"/mlops/{ctx.stack_name}/{ctx.name}",
            retention_in_days=options.log_retention_days,
            # The stack key's policy lets CloudWatch Logs use it (foundation.key_policy).
            kms_key_id=key,
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        execution = service_role(
            ctx,
            "execution",
            "ecs-tasks.amazonaws.com",
            scope,
            [
                *ecr_pull([ecr_repository_arn(image, scope)]),
                *logs_write([logs.arn]),
                statement(
                    ["secretsmanager:GetSecretValue"],
                    [credentials.arn, db_secret],
                    sid="ReadCredentials",
                ),
                *kms_use([key], sid="DecryptCredentials"),
            ],
            description=f"MLflow {ctx.name}: pull the image, read its secrets, write logs",
        )
        task_role = service_role(
            ctx,
            "task-role",
            "ecs-tasks.amazonaws.com",
            scope,
            [
                *s3_write(store.bucket_arn, [store.key(MLFLOW_PREFIX)], sid="Artifacts"),
                *kms_use(store.key_arns),
            ],
            description=f"MLflow {ctx.name}: read and write artifacts",
        )
        alb, listener, targets, url = self._load_balancer(
            ctx, scope, network, options, groups["lb"], protect=protect
        )
        cluster = ecs.Cluster(
            ctx.child_name("cluster"),
            settings=[ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        container = {
            "name": "mlflow",
            "image": image,
            "essential": True,
            "entryPoint": ["python", "-c"],
            "command": [LAUNCHER],
            "portMappings": [{"containerPort": _PORT, "protocol": "tcp"}],
            "readonlyRootFilesystem": False,
            "user": "1000",
            "environment": [
                {"name": "PORT", "value": str(_PORT)},
                {"name": "DB_HOST", "value": database.address},
                {"name": "DB_PORT", "value": str(_DB_PORT)},
                {"name": "DB_NAME", "value": _DB_NAME},
                {"name": "DB_USER", "value": _DB_USER},
                {"name": "ADMIN_USER", "value": ADMIN_USER},
                {"name": "MLFLOW_ARTIFACTS_DESTINATION", "value": store.s3_uri(MLFLOW_PREFIX)},
                {"name": "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "value": "false"},
                {
                    "name": "MLFLOW_SERVER_ALLOWED_HOSTS",
                    "value": pulumi.Output.from_input(options.domain or alb.dns_name).apply(
                        lambda host: f"{host},{host}:*"
                    ),
                },
            ],
            "secrets": [
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": concat(db_secret, ":password::"),
                },
                {
                    "name": "MLFLOW_AUTH_ADMIN_PASSWORD",
                    "valueFrom": concat(credentials.arn, ":admin_password::"),
                },
                {
                    "name": "MLFLOW_FLASK_SERVER_SECRET_KEY",
                    "valueFrom": concat(credentials.arn, ":flask_secret_key::"),
                },
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": logs.name,
                    "awslogs-region": scope.region,
                    "awslogs-stream-prefix": "mlflow",
                },
            },
        }
        task = ecs.TaskDefinition(
            ctx.child_name("task"),
            family=physical_name(ctx.stack_name, ctx.name, max_length=255),
            cpu=str(options.cpu),
            memory=str(options.memory_mib),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            execution_role_arn=execution.arn,
            task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            tags=ctx.tags(),
            opts=ctx.opts(
                depends_on=[execution.policy, task_role.policy, *(built.resources if built else [])]
            ),
            region=region,
        )
        ecs.Service(
            ctx.child_name(),
            cluster=cluster.arn,
            task_definition=task.arn,
            desired_count=options.replicas or (2 if high_availability else 1),
            launch_type="FARGATE",
            network_configuration=ecs.ServiceNetworkConfigurationArgs(
                subnets=network.subnet_ids,
                security_groups=[groups["service"].id],
                assign_public_ip=False,
            ),
            load_balancers=[
                ecs.ServiceLoadBalancerArgs(
                    target_group_arn=targets.arn, container_name="mlflow", container_port=_PORT
                )
            ],
            deployment_circuit_breaker=ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            health_check_grace_period_seconds=120,
            enable_execute_command=False,
            propagate_tags="SERVICE",
            tags=ctx.tags(),
            opts=ctx.opts(depends_on=[listener]),
            region=region,
        )
        return TrackingRef(
            url=url,
            username=ADMIN_USER,
            password=pulumi.Output.secret(admin_password),
        )

    @staticmethod
    def _security_groups(
        ctx: BuildContext[TrackingServerArgs],
        scope: AwsScope,
        network: WorkloadNetwork,
        options: SelfHostedTrackingOptions,
    ) -> dict[str, ec2.SecurityGroup]:
        region = scope.region_override
        groups: dict[str, ec2.SecurityGroup] = {}
        for role, description in (
            ("lb", "MLflow load balancer: HTTPS from the stack's workloads"),
            ("service", "MLflow tasks: from the load balancer only"),
            ("db", "MLflow database: from the MLflow tasks only"),
        ):
            groups[role] = ec2.SecurityGroup(
                ctx.child_name(role),
                vpc_id=network.vpc_id,
                description=description,
                revoke_rules_on_delete=True,
                tags=ctx.tags({"Name": physical_name(ctx.stack_name, ctx.name, role)}),
                opts=ctx.opts(),
                region=region,
            )
        listen = 443 if options.certificate_arn else 80
        clients = network.security_group_ids.apply(lambda ids: ids[0])

        def rule(
            name: str,
            kind: str,
            group: str,
            port: int,
            description: str,
            *,
            peer: pulumi.Input[str] | None = None,
            cidr: str | None = None,
        ) -> None:
            resource = vpc.SecurityGroupIngressRule if kind == "in" else vpc.SecurityGroupEgressRule
            resource(
                ctx.child_name(name),
                security_group_id=groups[group].id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                tags=ctx.tags(),
                opts=ctx.opts(),
                region=region,
                referenced_security_group_id=peer,
                cidr_ipv4=cidr,
            )

        rule(
            "lb-from-workloads",
            "in",
            "lb",
            listen,
            "workloads",
            peer=clients,
        )
        if listen != 443:  # the workloads' own egress rules open 443 only
            vpc.SecurityGroupEgressRule(
                ctx.child_name("workloads-to-lb"),
                security_group_id=clients,
                referenced_security_group_id=groups["lb"].id,
                ip_protocol="tcp",
                from_port=listen,
                to_port=listen,
                description="workloads to the MLflow load balancer (plain HTTP, development)",
                tags=ctx.tags(),
                opts=ctx.opts(),
                region=region,
            )
        for index, cidr in enumerate(options.allowed_cidrs):
            rule(f"lb-from-cidr-{index}", "in", "lb", listen, "allowed range", cidr=cidr)
        rule(
            "lb-to-service",
            "out",
            "lb",
            _PORT,
            "to MLflow",
            peer=groups["service"].id,
        )
        rule(
            "service-from-lb",
            "in",
            "service",
            _PORT,
            "from the load balancer",
            peer=groups["lb"].id,
        )
        rule(
            "service-to-db",
            "out",
            "service",
            _DB_PORT,
            "to the database",
            peer=groups["db"].id,
        )
        rule(
            "service-to-aws",
            "out",
            "service",
            443,
            "AWS APIs (S3, ECR, Secrets Manager)",
            cidr="0.0.0.0/0",
        )
        rule("db-from-service", "in", "db", _DB_PORT, "from MLflow",
             peer=groups["service"].id)  # fmt: skip
        return groups

    @staticmethod
    def _database(
        ctx: BuildContext[TrackingServerArgs],
        scope: AwsScope,
        network: WorkloadNetwork,
        spec: TrackingServerSpec,
        options: SelfHostedTrackingOptions,
        *,
        key: pulumi.Output[str],
        group: ec2.SecurityGroup,
        high_availability: bool,
        protect: bool,
    ) -> rds.Instance:
        region = scope.region_override
        subnets = rds.SubnetGroup(
            ctx.child_name("db-subnets"),
            subnet_ids=network.subnet_ids,
            description=f"MLflow {ctx.name} database",
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        identifier = physical_name(ctx.stack_name, ctx.name, "db")
        return rds.Instance(
            ctx.child_name("db"),
            identifier=identifier,
            engine="postgres",
            engine_version=options.db_engine_version,
            instance_class=options.db_instance_class
            or ("db.m7g.large" if high_availability else "db.t4g.small"),
            allocated_storage=spec.database_storage_gib,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key,
            db_name=_DB_NAME,
            username=_DB_USER,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            multi_az=high_availability,
            backup_retention_period=spec.backup_retention_days,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            iam_database_authentication_enabled=False,
            deletion_protection=protect,
            skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{identifier}-final" if protect else None,
            delete_automated_backups=not protect,
            tags=ctx.tags(),
            opts=ctx.opts(stateful=not spec.purge_on_delete),
            region=region,
        )

    @staticmethod
    def _load_balancer(
        ctx: BuildContext[TrackingServerArgs],
        scope: AwsScope,
        network: WorkloadNetwork,
        options: SelfHostedTrackingOptions,
        group: ec2.SecurityGroup,
        *,
        protect: bool,
    ) -> tuple[lb.LoadBalancer, lb.Listener, lb.TargetGroup, pulumi.Output[str]]:
        region = scope.region_override
        alb = lb.LoadBalancer(
            ctx.child_name("alb"),
            internal=True,
            load_balancer_type="application",
            subnets=network.subnet_ids,
            security_groups=[group.id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=protect,
            idle_timeout=300,
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        targets = lb.TargetGroup(
            ctx.child_name("targets"),
            port=_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=network.vpc_id,
            deregistration_delay=30,
            health_check=lb.TargetGroupHealthCheckArgs(
                enabled=True, path="/health", matcher="200", interval=30, healthy_threshold=2
            ),
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        https = options.certificate_arn is not None
        listener = lb.Listener(
            ctx.child_name("listener"),
            load_balancer_arn=alb.arn,
            port=443 if https else 80,
            protocol="HTTPS" if https else "HTTP",
            certificate_arn=options.certificate_arn,
            ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06" if https else None,
            default_actions=[
                lb.ListenerDefaultActionArgs(type="forward", target_group_arn=targets.arn)
            ],
            tags=ctx.tags(),
            opts=ctx.opts(),
            region=region,
        )
        if not https:
            pulumi.log.warn(
                f"{ctx.name}: the internal MLflow listener is plain HTTP (basic-auth "
                "credentials cross the VPC unencrypted); set options.certificate_arn",
                ctx.component,
            )
        if options.domain and options.hosted_zone_id:
            route53.Record(
                ctx.child_name("dns"),
                zone_id=options.hosted_zone_id,
                name=options.domain,
                type="A",
                aliases=[
                    route53.RecordAliasArgs(
                        name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True
                    )
                ],
                opts=ctx.opts(),
            )
        url = (
            pulumi.Output.from_input(f"https://{options.domain}")
            if options.domain
            else concat("http://", alb.dns_name)
        )
        return alb, listener, targets, url
