"""SageMaker managed MLflow: a tracking server, or the serverless MLflow App.

Children of the ``TrackingServer`` component ``<name>``:

* ``<name>-role`` (+ ``-role-policy``): the role SageMaker uses for the artifact store,
  scoped to the store's ``mlflow/`` prefix and its key.
* ``<name>``: ``sagemaker.MlflowTrackingServer`` (size from the spec) or
  ``sagemaker.MlflowApp`` (see :class:`~mlops_infra.backends.aws.options.SageMakerTrackingOptions`);
  stateful: protected and retained in production.

Authentication is AWS IAM (SigV4), always on. The tracking URI is the server's ARN: MLflow
clients need the ``sagemaker-mlflow`` plugin (``pip install sagemaker-mlflow``) and AWS
credentials allowed the ``sagemaker-mlflow:*`` calls on it. That includes evaluating an
endpoint's promotion gate at ``pulumi up``: the machine running ``up`` needs the plugin and
credentials (previews never contact the server).
"""

from __future__ import annotations

from typing import Literal

import pulumi
from pulumi_aws import sagemaker

from mlops_infra.backends.aws._iam import kms_use, s3_write, service_role
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws.mlflow_auth import CLIENT_AUTH
from mlops_infra.backends.aws.options import SageMakerTrackingOptions
from mlops_infra.resources import (
    BuildContext,
    TrackingRef,
    TrackingServerArgs,
    TrackingServerBackend,
)
from mlops_infra.specs import TrackingServerSpec

__all__ = ["MLFLOW_PREFIX", "SageMakerMlflow", "deployment_of"]

MLFLOW_PREFIX = "mlflow/"
"""Where in the artifact store MLflow keeps run and model artifacts."""

_SIZES = {"small": "Small", "medium": "Medium", "large": "Large"}


def deployment_of(
    options: SageMakerTrackingOptions, spec: TrackingServerSpec, high_availability: bool
) -> Literal["app", "tracking-server"]:
    """``app`` or ``tracking-server``: the option, or for ``auto`` the spec's availability."""
    if options.deployment != "auto":
        return options.deployment
    wants_ha = spec.high_availability if spec.high_availability is not None else high_availability
    return "app" if wants_ha else "tracking-server"


class SageMakerMlflow(TrackingServerBackend):
    """SageMaker managed MLflow over the artifact store, authenticated by IAM."""

    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        """Creates the service role and the tracking server (or app); returns its ARN as URI."""
        options = ctx.options_as(SageMakerTrackingOptions)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        store = StoreLocation.of(ctx.args.store, scope)
        artifacts = store.key(MLFLOW_PREFIX)
        role = service_role(
            ctx,
            "role",
            "sagemaker.amazonaws.com",
            scope,
            [
                *s3_write(store.bucket_arn, [artifacts], sid="Artifacts"),
                *kms_use(store.key_arns),
            ],
            description=f"SageMaker MLflow {ctx.name}: artifact store access",
        )
        artifact_uri = store.s3_uri(MLFLOW_PREFIX)
        name = physical_name(ctx.stack_name, ctx.name)
        opts = ctx.opts(stateful=True, depends_on=[role.policy])
        server: sagemaker.MlflowApp | sagemaker.MlflowTrackingServer
        if deployment_of(options, spec, ctx.target.profile.high_availability) == "app":
            server = sagemaker.MlflowApp(
                ctx.child_name(),
                name=name,
                artifact_store_uri=artifact_uri,
                role_arn=role.arn,
                model_registration_mode=(
                    "AutoModelRegistrationEnabled"
                    if options.automatic_model_registration
                    else "AutoModelRegistrationDisabled"
                ),
                account_default_status="DISABLED",
                weekly_maintenance_window_start=options.maintenance_window,
                tags=ctx.tags(),
                opts=opts,
                region=scope.region_override,
            )
        else:
            server = sagemaker.MlflowTrackingServer(
                ctx.child_name(),
                tracking_server_name=name,
                tracking_server_size=_SIZES[spec.size],
                artifact_store_uri=artifact_uri,
                role_arn=role.arn,
                mlflow_version=options.managed_mlflow_version,
                automatic_model_registration=options.automatic_model_registration,
                weekly_maintenance_window_start=options.maintenance_window,
                tags=ctx.tags(),
                opts=opts,
                region=scope.region_override,
            )
        if spec.auth is False:
            pulumi.log.warn(
                f"{ctx.name}: SageMaker MLflow always requires IAM authentication; "
                "'auth: false' is ignored",
                ctx.component,
            )
        # MLflow clients on the deployer's machine (gate, alias, run lookup) sign with SigV4.
        return TrackingRef(url=server.arn, username=None, password=None, client_auth=CLIENT_AUTH)
