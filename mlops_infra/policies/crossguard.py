"""The rules as a Pulumi CrossGuard policy pack (``pulumi preview --policy-pack policy``).

Each rule becomes one policy named by its id: rules that look at one resource become
resource policies, rules that look at other resources (``uses_stack``) stack policies.

The stack's facts come from the ``mlops:index:*`` components, from the inputs each
registered (its target and effective spec): a component is judged by what it built, even
one composed by hand. The engine hands a resource policy the resource's *inputs* but a
stack policy every resource's *outputs* (a component's outputs are what it passed to
``register_outputs``), so the settings remember every component a resource policy saw:
components register before their children and the stack is checked last. Only when no
component has been seen (a program built without them) do the facts come from the
stack's ``mlops:*`` config, read from the stack file (or, failing that, from the engine):
the stack-wide settings of its :class:`~mlops_infra.resources.Target`, the tracking
server's authentication through :mod:`mlops_infra.specs.effective`.
Building the ``PolicyPack`` itself happens only in ``policy/__main__.py``: its
constructor starts a gRPC server and blocks, so tests import this module, never that one.
"""

from __future__ import annotations

import json
import os
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from mlops_infra.errors import MlopsError
from mlops_infra.plan.facts import StackFacts
from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import MASK
from mlops_infra.policies.catalog import all_rules
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Rule, Status
from mlops_infra.policies.suppressions import Suppression
from mlops_infra.resources import Target, decode_component_inputs
from mlops_infra.specs import StackSpec, effective_tracking, profile_for
from mlops_infra.specs.loading import CONFIG_NAMESPACE, read_stack_file, spec_from_config

__all__ = [
    "UNKNOWN",
    "CrossGuardSettings",
    "crossguard_policies",
    "facts_from_config",
    "policy_for",
    "resource_from_args",
    "resource_from_policy_resource",
]

UNKNOWN = "[unknown]"
"""What a value unknown during preview reads as (set, but not yet known)."""

_SEVERITY: Mapping[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}


def _plain(value: Any) -> Any:
    """Returns CrossGuard's proxied props as plain data: secrets masked, unknowns marked."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        mapping = typing.cast(Mapping[str, Any], value)
        result: dict[str, Any] = {}
        for key in mapping:
            try:
                result[str(key)] = _plain(mapping[key])
            except UnknownValueError:
                result[str(key)] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = typing.cast(Sequence[Any], value)
        result_list: list[Any] = []
        for index in range(len(items)):
            try:
                result_list.append(_plain(items[index]))
            except UnknownValueError:
                result_list.append(UNKNOWN)
        return result_list
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _options(opts: PolicyResourceOptions | None) -> dict[str, Any]:
    if opts is None:
        return {}
    return {
        "protect": bool(opts.protect),
        "retain_on_delete": None,  # CrossGuard does not report it
        "ignore_changes": tuple(opts.ignore_changes or ()),
        "delete_before_replace": bool(opts.delete_before_replace),
        "additional_secret_outputs": tuple(opts.additional_secret_outputs or ()),
    }


def resource_from_args(args: ResourceValidationArgs) -> PlannedResource:
    """Returns a resource policy's subject as the rules see resources."""
    options = _options(args.opts)
    return PlannedResource(
        urn=args.urn,
        type=args.resource_type,
        name=args.name,
        parent=args.opts.parent,
        custom=not args.resource_type.startswith("mlops:index:"),
        inputs=decode_component_inputs(args.resource_type, _plain(args.props)),
        **options,
    )


def resource_from_policy_resource(resource: PolicyResource) -> PlannedResource:
    """Returns one resource of a stack policy's stack as the rules see resources.

    An input still unknown in a preview that comes from exactly one other resource reads
    as that resource's id the way offline plans show it (``<name>-id``), so rules can tell
    which resource it refers to (e.g. the bucket a ``BucketLogging`` delivers to).
    """
    options = _options(resource.opts)
    inputs = decode_component_inputs(resource.resource_type, _plain(resource.props))
    for key, sources in resource.property_dependencies.items():
        if inputs.get(key) == UNKNOWN and len(sources) == 1:
            inputs[key] = f"{sources[0].name}-id"
    return PlannedResource(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        parent=resource.parent.urn if resource.parent is not None else None,
        custom=not resource.resource_type.startswith("mlops:index:"),
        inputs=inputs,
        depends_on=tuple(sorted({d.urn for d in resource.dependencies})),
        **options,
    )


def facts_from_config(config: Mapping[str, Any]) -> StackFacts:
    """Returns the stack facts from its ``mlops:*`` config values (defaults when invalid).

    Args:
        config: Config values by full key; ``mlops:stack`` may be a JSON string.
    """
    values: dict[str, Any] = {}
    for key in ("cloud", "environment", "stack"):
        full = f"{CONFIG_NAMESPACE}:{key}"
        value = config.get(full)
        if isinstance(value, str) and key == "stack":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                value = None
        if value is not None:
            values[full] = value
    try:
        return _stack_facts(spec_from_config(values))
    except MlopsError:
        # An invalid spec fails the program itself; judge by the environment meanwhile.
        environment = str(values.get(f"{CONFIG_NAMESPACE}:environment") or "local")
        profile = profile_for(environment)
        return StackFacts(
            environment=environment,
            tier=profile.tier,
            protect_stateful=profile.protect_stateful,
            tracking_auth=profile.tracking_auth,
        )


def _stack_facts(spec: StackSpec) -> StackFacts:
    """The stack-wide facts of ``spec`` (its components' facts come from their registrations)."""
    tracking = effective_tracking(spec.tracking, spec.profile)
    store = spec.artifact_store
    return StackFacts.from_target(
        Target.from_spec(spec).inputs(),
        tracking_auth=tracking.auth,
        store_versioning=None if store.existing is not None else store.versioning,
        store_purge_on_delete=store.purge_on_delete,
        tracking_purge_on_delete=tracking.purge_on_delete,
    )


class CrossGuardSettings:
    """Where the policies find the stack: its name, facts and suppressions (read lazily).

    Args:
        stack: Stack name; default: ``PULUMI_STACK`` (set by the engine).
        config: Config values by full key; default: the config the engine passes.
        suppressions: Accepted violations.
        facts: The stack facts, when known already (tests); default: from ``config``.
        stack_dir: Folder of the stack files: the stack's file there is read for its
            ``mlops:*`` config (plain values only; secrets are never read); without it, the
            config the engine passes is used.
    """

    def __init__(
        self,
        *,
        stack: str | None = None,
        config: Mapping[str, Any] | None = None,
        suppressions: Iterable[Suppression] = (),
        facts: StackFacts | None = None,
        stack_dir: Path | None = None,
    ) -> None:
        """Creates the settings."""
        self._stack = stack
        self._config = config
        self._facts = facts
        self._stack_dir = stack_dir
        self._components: dict[str, PlannedResource] = {}
        self.suppressions = tuple(suppressions)

    @property
    def stack(self) -> str:
        """The stack name (``PULUMI_STACK`` may be fully qualified: ``org/project/stack``)."""
        return (self._stack or os.environ.get("PULUMI_STACK", "")).rsplit("/", 1)[-1]

    def _stack_config(self) -> dict[str, Any]:
        if self._stack_dir is not None:
            path = self._stack_dir / f"Pulumi.{self.stack}.yaml"
            if path.is_file():
                try:
                    return read_stack_file(path)
                except MlopsError:
                    pass
        reader = pulumi.Config(CONFIG_NAMESPACE)
        return {
            f"{CONFIG_NAMESPACE}:{key}": reader.get(key)
            for key in ("cloud", "environment", "stack")
        }

    @property
    def facts(self) -> StackFacts:
        """The stack facts (computed once)."""
        if self._facts is None:
            config = self._config if self._config is not None else self._stack_config()
            self._facts = facts_from_config(config)
        return self._facts

    def observe(self, resource: PlannedResource) -> None:
        """Remembers ``resource`` if it is a component that registered its inputs."""
        if not resource.custom and "target" in resource.inputs:
            self._components.setdefault(resource.urn, resource)

    def facts_for(self, resources: Iterable[PlannedResource] = ()) -> StackFacts:
        """The facts of the components seen so far and those among ``resources``.

        Falls back to :attr:`facts` (the stack's config) when no component registered inputs.
        """
        seen = dict(self._components)
        for resource in resources:
            if not resource.custom and "target" in resource.inputs:
                seen.setdefault(resource.urn, resource)
        return StackFacts.from_components(seen.values()) or self.facts

    def suppressed(self, rule_id: str, resource: str) -> bool:
        """Whether a violation of ``rule_id`` on ``resource`` is accepted."""
        return any(s.covers(rule_id, self.stack, resource) for s in self.suppressions)


def _report(
    rule: Rule,
    resource: PlannedResource,
    *,
    context: PolicyContext,
    settings: CrossGuardSettings,
    report_violation: ReportViolation,
    urn: str | None,
) -> None:
    outcome = rule.evaluate(resource, context)
    if outcome.status == Status.NON_COMPLIANT and not settings.suppressed(rule.id, resource.name):
        report_violation(f"{resource.name}: {outcome.message}", urn)


def policy_for(rule: Rule, settings: CrossGuardSettings) -> Policy:
    """Returns the CrossGuard policy running ``rule``.

    A rule that looks at other resources becomes a stack policy; any other rule a
    resource policy.
    """
    common: dict[str, Any] = {
        "name": rule.id,
        "description": rule.title,
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": _SEVERITY[rule.severity],
        "tags": [rule.pack, *rule.scanners],
        "remediation_steps": rule.remediation or None,
    }
    if rule.uses_stack:

        def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
            resources = tuple(resource_from_policy_resource(r) for r in args.resources)
            context = PolicyContext(settings.stack, settings.facts_for(resources), resources)
            for resource in resources:
                if rule.matches(resource):
                    _report(
                        rule,
                        resource,
                        context=context,
                        settings=settings,
                        report_violation=report_violation,
                        urn=resource.urn,
                    )

        return StackValidationPolicy(validate=validate_stack, **common)

    def validate_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = resource_from_args(args)
        settings.observe(resource)
        if rule.matches(resource):
            context = PolicyContext(settings.stack, settings.facts_for(), ())
            _report(
                rule,
                resource,
                context=context,
                settings=settings,
                report_violation=report_violation,
                urn=None,
            )

    return ResourceValidationPolicy(validate=validate_resource, **common)


def crossguard_policies(
    settings: CrossGuardSettings | None = None, rules: Iterable[Rule] | None = None
) -> list[Policy]:
    """Returns one CrossGuard policy per published rule (every rule by default).

    Rules that need what CrossGuard does not pass on (``crossguard=False``) are left out.
    """
    chosen = settings or CrossGuardSettings()
    return [policy_for(rule, chosen) for rule in (rules or all_rules()) if rule.crossguard]
