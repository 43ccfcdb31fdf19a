"""Cloud-agnostic hygiene: required tags, no plaintext secrets, protected state in production."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any

from mlops_infra.plan.model import PlannedResource
from mlops_infra.plan.provider_rules import is_stateful_type, is_tagged_type
from mlops_infra.policies._helpers import as_mapping, is_masked
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["REQUIRED_TAGS", "RULES"]

REQUIRED_TAGS = ("managed-by", "mlops-environment", "mlops-stack")
"""Tags (labels on GCP) every taggable resource carries: who manages it, and where it belongs."""

_SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential)",
    re.IGNORECASE,
)
#: Keys that name or point at a secret rather than hold one (``secret`` is a reference on
#: GCP: a secret version's parent, a Cloud Run ``secretKeyRef``). A Cloud Run job's
#: ``run``/``startExecutionToken`` is a suffix naming the next execution, not a credential
#: (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs); an EC2
#: launch template's ``metadataOptions.httpTokens`` says whether IMDSv2 is required
#: (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplateInstanceMetadataOptions.html).
_REFERENCE_KEY = re.compile(
    r"(^secret$|secret_?(key_?)?ref$|"
    r"arn|id|ids|name|key_?name|config_?key|version|versions|stages|type|kind|uri|url|"
    r"ttl|rotation|replication|policy|enabled|length|arns|recovery_?window_?in_?days|"
    r"kms_?key(_?id)?|_?wo_?version|expire_?time|secret_?type|topics|execution_?token|http_?tokens)$",
    re.IGNORECASE,
)


def _tags(resource: PlannedResource) -> Mapping[str, Any] | None:
    for key in ("tags", "labels"):
        if key in resource.inputs:
            return as_mapping(resource.inputs[key])
    return None


def _required_tags(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    tags = _tags(resource)
    if tags is None:
        # Each cloud names its types that take tags (its descriptor's plan rules).
        if is_tagged_type(resource.type):
            return violation(f"no tags; add {', '.join(REQUIRED_TAGS)}")
        return not_applicable("takes no tags")
    missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
    if missing:
        return violation(f"missing tags: {', '.join(missing)}")
    return compliant()


def _plaintext(value: Any, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in typing.cast(Mapping[str, Any], value).items():
            child = f"{path}.{key}" if path else str(key)
            if (
                _SECRET_KEY.search(str(key))
                and not _REFERENCE_KEY.search(str(key))
                and isinstance(item, str)
                and item
                and not is_masked(item)
            ):
                found.append(child)
            else:
                found += _plaintext(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(typing.cast(list[Any], value)):
            found += _plaintext(item, f"{path}[{index}]")
    return found


def _no_plaintext_secrets(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    leaks = _plaintext(dict(resource.inputs), "")
    if leaks:
        return violation(
            f"plaintext secret in {', '.join(leaks)}; pass it as a Pulumi secret "
            "(pulumi.Output.secret / config set --secret)"
        )
    return compliant()


def _protected(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if not is_stateful_type(resource.type):
        return not_applicable("holds no data")
    if not context.facts.is_production:
        return not_applicable(f"tier {context.facts.tier} is not production")
    missing = [
        name
        for name, value in (
            ("protect", resource.protect),
            ("retain_on_delete", resource.retain_on_delete),
        )
        if value is False  # None: not reported (CrossGuard); judge what is known
    ]
    if missing:
        return violation(
            f"stateful resource in production without {' and '.join(missing)}; "
            "leave protect_stateful on"
        )
    return compliant()


RULES = (
    Rule(
        id="MLOPS-TAG-001",
        title="Taggable resources carry the required tags (managed-by, environment, stack)",
        pack="mlops",
        types=("*",),
        check=_required_tags,
        severity="low",
        remediation="build children with ctx.tags(); never drop the standard tags",
    ),
    Rule(
        id="MLOPS-SECRET-001",
        title="No plaintext secret in any resource input",
        pack="mlops",
        types=("*",),
        check=_no_plaintext_secrets,
        scanners=("CKV_AWS_45", "CKV_AWS_46"),
        severity="critical",
        remediation="wrap the value with pulumi.Output.secret or read it with require_secret",
        crossguard=False,
    ),
    Rule(
        id="MLOPS-PROT-001",
        title="Stateful resources are protected and retained on delete in production",
        pack="mlops",
        types=("*",),
        check=_protected,
        severity="critical",
        remediation="keep protect_stateful on in production stacks",
    ),
)
