"""VPC networks: an explicit deny-all ingress rule, nothing admitted from the internet."""

from __future__ import annotations

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_list, as_mapping, as_strings, is_open_cidr
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, violation

__all__ = ["RULES"]

_NETWORK = "gcp:compute/network:Network"
_FIREWALL = "gcp:compute/firewall:Firewall"


def _ingress(firewall: PlannedResource) -> bool:
    # direction defaults to INGRESS (https://cloud.google.com/firewall/docs/firewalls).
    return str(firewall.inputs.get("direction") or "INGRESS") == "INGRESS"


def _denies_all(firewall: PlannedResource) -> bool:
    denies = [as_mapping(d) for d in as_list(firewall.inputs.get("denies"))]
    return (
        _ingress(firewall)
        and any(d.get("protocol") == "all" and not d.get("ports") for d in denies)
        and any(is_open_cidr(c) for c in as_strings(firewall.inputs.get("sourceRanges")))
        and not firewall.inputs.get("disabled")
    )


def _allows_internet(firewall: PlannedResource) -> bool:
    return (
        _ingress(firewall)
        and bool(as_list(firewall.inputs.get("allows")))
        and any(is_open_cidr(c) for c in as_strings(firewall.inputs.get("sourceRanges")))
    )


def _deny_by_default(resource: PlannedResource, context: PolicyContext) -> Outcome:
    rules = context.related(resource, (_FIREWALL,), via="network")
    if not any(_denies_all(rule) for rule in rules):
        return violation("the network has no explicit deny-all ingress firewall rule")
    open_rules = sorted(rule.name for rule in rules if _allows_internet(rule))
    if open_rules:
        return violation(f"firewall rules admit the whole internet: {', '.join(open_rules)}")
    return compliant()


RULES = (
    Rule(
        id="MLOPS-GCP-VPC-001",
        title="A created VPC network denies ingress explicitly and admits none from the internet",
        pack="gcp",
        types=(_NETWORK,),
        check=_deny_by_default,
        severity="medium",
        remediation=(
            "a compute.Firewall on the network: direction INGRESS, deny protocol all from "
            "0.0.0.0/0 at a low priority, allows only from private ranges (the GCP "
            "foundation creates them)"
        ),
        uses_stack=True,
    ),
)
