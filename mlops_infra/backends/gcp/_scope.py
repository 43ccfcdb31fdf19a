"""Where GCP components deploy: the stack's project and region, and the foundation's subnet.

The project is the ``gcp:project`` config (else the provider's default project); its id and
number are looked up through the provider (``getProject`` invoke) where a name needs them.
The region is the stack's ``region``, else the ``gcp:region`` config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_gcp import organizations

from mlops_infra.errors import BackendError
from mlops_infra.resources import BuildContext

__all__ = [
    "AnyContext",
    "current_project_id",
    "project_id",
    "project_number",
    "region_of",
    "subnet_of",
]

AnyContext = BuildContext[Any]
"""The build context of any component: the helpers read only its name, target and options.

``Any`` because ``BuildContext`` is invariant in its args type: a helper taking
``BuildContext[object]`` would accept no component's context.
"""


def project_id() -> str | None:
    """Returns the ``gcp:project`` config value (``None``: the provider's default project)."""
    return pulumi.Config("gcp").get("project")


def _project() -> pulumi.Output[organizations.GetProjectResult]:
    return organizations.get_project_output(project_id=project_id())


def project_number() -> pulumi.Output[str]:
    """Returns the number of the stack's project."""
    # Offline runs answer invokes with nothing: "0" keeps derived names well-formed there.
    return _project().apply(lambda p: str(p.number or "0"))


def current_project_id() -> pulumi.Output[str]:
    """Returns the id of the stack's project (``gcp:project``, else the provider's default)."""
    configured = project_id()
    if configured:
        return pulumi.Output.from_input(configured)
    return _project().apply(lambda p: p.project_id or "unknown-project")


def region_of(ctx: AnyContext) -> str:
    """Returns the region: the stack's ``region``, else the ``gcp:region`` config.

    Raises:
        BackendError: neither is set (GCS buckets, key rings and Cloud Run need one).
    """
    region = ctx.target.region or pulumi.Config("gcp").get("region")
    if not region:
        msg = (
            f"{ctx.name}: the GCP backend needs a region; set 'region' in the stack spec "
            "(mlops:stack.region) or 'gcp:region' in the stack config"
        )
        raise BackendError(msg)
    return region


def subnet_of(ids: pulumi.Input[Sequence[str] | None]) -> pulumi.Output[str]:
    """Returns the first of the foundation's private subnets."""

    def first(values: Sequence[str] | None) -> str:
        if not values:
            msg = "the foundation's network has no private subnet"
            raise BackendError(msg)
        return str(values[0])

    return pulumi.Output.from_input(ids).apply(first)
