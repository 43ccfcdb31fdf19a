"""The cloud descriptor: lazy paths checked at registration, resolved once, merged by consumers."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_infra.catalog import GpuOffers
from mlops_infra.errors import RegistryError
from mlops_infra.plan.mocks import PlanMocks, cloud_invokes
from mlops_infra.plan.provider_rules import (
    ProviderRules,
    is_stateful_type,
    is_tagged_type,
    provider_rules,
    replace_reasons,
)
from mlops_infra.policies import Rule, all_rules, compliant, rules_of
from mlops_infra.policies.catalog import rules_by_pack
from mlops_infra.registry import CloudInfo, FlavorRegistry, default_registry

MODULE = "acme_descriptor_test"


def _rule(rule_id: str, pack: str) -> Rule:
    return Rule(
        id=rule_id,
        pack=pack,
        title="acme rule",
        types=("acme:index:Disk",),
        check=lambda resource, context: compliant(),
        severity="low",
    )


@pytest.fixture
def acme() -> Iterator[types.ModuleType]:
    """A module a descriptor points at, importable by name."""
    module = types.ModuleType(MODULE)
    module.RULES = (_rule("MLOPS-ACME-DISK-001", "acme"),)  # type: ignore[attr-defined]
    module.PLAN_RULES = ProviderRules(  # type: ignore[attr-defined]
        replaced_on={"acme:index:Disk": frozenset({"zone"})},
        stateful_types=frozenset({"acme:index:Disk"}),
        tagged_types=frozenset({"acme:index:Disk"}),
    )
    module.plan_invokes = lambda region: {  # type: ignore[attr-defined]
        "acme:index:getZone": {"zone": f"{region}-1"}
    }
    module.NOT_RULES = ("just a string",)  # type: ignore[attr-defined]
    sys.modules[MODULE] = module
    yield module
    del sys.modules[MODULE]


def _registry(**fields: Any) -> FlavorRegistry:
    registry = FlavorRegistry(load_entry_points=False)
    registry.register_cloud(
        CloudInfo(name="acme", description="test", gpus=GpuOffers(cloud="acme"), **fields)
    )
    return registry


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"policies": ("no colon",)}, "cloud 'acme': policies[0] 'no colon' is not"),
        ({"policies": ("a.b:C", "x y:z")}, "cloud 'acme': policies[1] 'x y:z' is not"),
        ({"plan_rules": "a.b"}, "cloud 'acme': plan_rules 'a.b' is not 'package.module:attr"),
        ({"plan_invokes": ":f"}, "cloud 'acme': plan_invokes ':f' is not"),
    ],
)
def test_descriptor_paths_are_checked_at_registration(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _registry(**fields)


def test_descriptor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        CloudInfo("acme", "test", GpuOffers(cloud="acme"))  # type: ignore[misc]


@pytest.mark.usefixtures("acme")
def test_a_clouds_rules_packs_and_invokes_are_found_through_its_descriptor() -> None:
    registry = _registry(
        policies=(f"{MODULE}:RULES",),
        plan_rules=f"{MODULE}:PLAN_RULES",
        plan_invokes=f"{MODULE}:plan_invokes",
    )
    assert is_stateful_type("acme:index:Disk", registry)
    assert is_stateful_type("mlops:index:ArtifactStore", registry)  # the core rules stay
    assert not is_stateful_type("acme:index:Other", registry)
    assert is_tagged_type("acme:index:Disk", registry)
    assert replace_reasons("acme:index:Disk", ["zone", "size"], registry=registry) == ["zone"]
    assert list(rules_by_pack(registry)) == ["mlops", "acme"]
    assert [r.id for r in rules_of(["acme"], registry)] == ["MLOPS-ACME-DISK-001"]
    assert all_rules(registry)[-1].id == "MLOPS-ACME-DISK-001"
    assert cloud_invokes(["acme"], "north", registry) == {"acme:index:getZone": {"zone": "north-1"}}
    mocks = PlanMocks(region="north", clouds=["acme"], registry=registry)
    assert mocks._calls == {"acme:index:getZone": {"zone": "north-1"}}  # pyright: ignore[reportPrivateUsage]


@pytest.mark.usefixtures("acme")
def test_resolve_imports_once() -> None:
    registry = _registry(plan_rules=f"{MODULE}:PLAN_RULES")
    first = registry.resolve(f"{MODULE}:PLAN_RULES", "x")
    sys.modules[MODULE].PLAN_RULES = ProviderRules()  # type: ignore[attr-defined]
    assert registry.resolve(f"{MODULE}:PLAN_RULES", "x") is first


@pytest.mark.usefixtures("acme")
@pytest.mark.parametrize(
    ("fields", "call", "message"),
    [
        (
            {"plan_rules": f"{MODULE}:RULES"},
            provider_rules,
            f"cloud 'acme': plan_rules '{MODULE}:RULES' is a tuple, not ProviderRules",
        ),
        (
            {"policies": (f"{MODULE}:NOT_RULES",)},
            rules_by_pack,
            f"cloud 'acme': policies '{MODULE}:NOT_RULES' is not a tuple of Rule",
        ),
        (
            {"plan_invokes": f"{MODULE}:RULES"},
            lambda r: cloud_invokes(None, None, r),
            f"cloud 'acme': plan_invokes '{MODULE}:RULES' is not a function",
        ),
        (
            {"plan_rules": f"{MODULE}:MISSING"},
            provider_rules,
            f"cloud 'acme': plan_rules: module '{MODULE}' has no attribute 'MISSING'",
        ),
        (
            {"policies": ("acme_nowhere.rules:RULES",)},
            rules_by_pack,
            "cloud 'acme': policies: cannot import 'acme_nowhere.rules'",
        ),
    ],
)
def test_a_wrong_descriptor_path_fails_naming_the_cloud_and_field(
    fields: dict[str, Any], call: Any, message: str
) -> None:
    with pytest.raises(RegistryError) as raised:
        call(_registry(**fields))
    assert str(raised.value).startswith(message)


@pytest.mark.usefixtures("acme")
def test_two_clouds_cannot_share_a_pack_or_a_rule_id(acme: types.ModuleType) -> None:
    registry = _registry(policies=(f"{MODULE}:RULES",))
    acme.MORE = (_rule("MLOPS-ACME-DISK-002", "acme"),)  # type: ignore[attr-defined]
    registry.register_cloud(
        CloudInfo(
            name="other",
            description="t",
            gpus=GpuOffers(cloud="other"),
            policies=(f"{MODULE}:MORE",),
        )
    )
    with pytest.raises(
        ValueError, match="pack 'acme' of rule MLOPS-ACME-DISK-002 is declared by 'acme'"
    ):
        rules_by_pack(registry)
    acme.MORE = (_rule("MLOPS-ACME-DISK-001", "other"),)  # type: ignore[attr-defined]
    registry = _registry(policies=(f"{MODULE}:RULES",))
    registry.register_cloud(
        CloudInfo(
            name="other",
            description="t",
            gpus=GpuOffers(cloud="other"),
            policies=(f"{MODULE}:MORE",),
        )
    )
    with pytest.raises(ValueError, match="rule id MLOPS-ACME-DISK-001 is used twice"):
        rules_by_pack(registry)


def test_builtin_clouds_declare_everything_through_their_descriptors() -> None:
    registry = default_registry()
    for name in ("aws", "gcp", "azure", "local"):
        cloud = registry.cloud(name)
        assert cloud.policies == (f"mlops_infra.backends.{name}.policies:RULES",)
        assert cloud.plan_rules == f"mlops_infra.backends.{name}.plan:PLAN_RULES"
        assert cloud.plan_invokes == f"mlops_infra.backends.{name}.plan:plan_invokes"
    assert list(rules_by_pack())[:1] == ["mlops"]
    assert {"aws", "gcp", "azure", "local"} <= set(rules_by_pack())
