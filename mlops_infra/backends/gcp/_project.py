"""Facts about the stack's project, looked up through the provider (``getProject`` invoke)."""

from __future__ import annotations

import pulumi
from pulumi_gcp import organizations

from mlops_infra.backends.gcp._platform import project_id

__all__ = ["current_project_id", "project_number"]


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
