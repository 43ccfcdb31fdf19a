"""The CrossGuard policy pack: one policy per mlops-infra rule, suppressions applied.

This file only builds the ``PolicyPack``, whose constructor starts the analyzer's gRPC
server and blocks; the policies themselves come from :mod:`mlops_infra.policies.crossguard`
(tested there, never by importing this file). Suppressions are read from
``stacks/policy-suppressions.yaml``; the stack's facts from the inputs its components
register (their effective specs), and only where no component is seen from its ``mlops:*``
config in its stack file (or the config the engine passes to the pack).
"""

from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

from mlops_infra.policies import SUPPRESSIONS_FILE, all_rules, load_suppressions
from mlops_infra.policies.crossguard import CrossGuardSettings, crossguard_policies

_STACKS = Path(__file__).resolve().parent.parent / "stacks"

PolicyPack(
    name="mlops-infra",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=crossguard_policies(
        CrossGuardSettings(
            suppressions=load_suppressions(
                _STACKS / SUPPRESSIONS_FILE, [rule.id for rule in all_rules()]
            ),
            stack_dir=_STACKS,
        )
    ),
)
