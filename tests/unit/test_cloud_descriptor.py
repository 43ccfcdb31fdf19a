"""The cloud descriptor: lazy paths checked at registration, resolved once, merged by consumers."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs

from mlops_infra.catalog import GpuOffers
from mlops_infra.errors import RegistryError
from mlops_infra.offline import CloudMocks
from mlops_infra.plan.mocks import PlanMocks, cloud_mocks
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


class AcmeMocks(CloudMocks):
    """A cloud's mocks: one invoke, one computed output."""

    def invoke_answers(self) -> dict[str, dict[str, Any]]:
        return {"acme:index:getZone": {"zone": f"{self.region}-1"}}

    def previewed(self, typ: str, name: str, inputs: Any) -> dict[str, Any] | None:
        return {"serial": f"{name}-serial"} if typ == "acme:index:Disk" else None


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
    module.AcmeMocks = AcmeMocks  # type: ignore[attr-defined]
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
        ({"mocks": ":f"}, "cloud 'acme': mocks ':f' is not"),
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
        mocks=f"{MODULE}:AcmeMocks",
    )
    assert is_stateful_type("acme:index:Disk", registry)
    assert is_stateful_type("mlops:index:ArtifactStore", registry)  # the core rules stay
    assert not is_stateful_type("acme:index:Other", registry)
    assert is_tagged_type("acme:index:Disk", registry)
    assert replace_reasons("acme:index:Disk", ["zone", "size"], registry=registry) == ["zone"]
    assert list(rules_by_pack(registry)) == ["mlops", "acme"]
    assert [r.id for r in rules_of(["acme"], registry)] == ["MLOPS-ACME-DISK-001"]
    assert all_rules(registry)[-1].id == "MLOPS-ACME-DISK-001"
    (found,) = cloud_mocks(["acme"], "north", registry)
    assert isinstance(found, AcmeMocks)
    assert (found.region, found.applied) == ("north", False)
    mocks = PlanMocks(region="north", clouds=["acme"], registry=registry)
    assert mocks._calls == {"acme:index:getZone": {"zone": "north-1"}}  # pyright: ignore[reportPrivateUsage]
    _, state = mocks.new_resource(
        MockResourceArgs("acme:index:Disk", "d", {"zone": "n"}, custom=True)
    )
    assert state["serial"] == "d-serial"


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
            {"mocks": f"{MODULE}:RULES"},
            lambda r: cloud_mocks(None, None, r),
            f"cloud 'acme': mocks '{MODULE}:RULES' is not a subclass of",
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
    for name, mocks in (("aws", "AwsMocks"), ("gcp", "GcpMocks"), ("azure", "AzureMocks")):
        assert registry.cloud(name).mocks == f"mlops_infra.backends.{name}.testing:{mocks}"
    assert registry.cloud("local").mocks is None  # nothing to answer: its outputs are echoed
    assert list(rules_by_pack())[:1] == ["mlops"]
    assert {"aws", "gcp", "azure", "local"} <= set(rules_by_pack())


@pytest.mark.parametrize("name", ["aws", "gcp", "azure"])
def test_plans_and_unit_tests_share_one_mocks_class_per_cloud(name: str) -> None:
    """Issue 16: what a plan shows and what a test asserts are written once, and agree."""
    registry = default_registry()
    (plan,) = cloud_mocks([name], "eu-west-1", registry)
    path = registry.cloud(name).mocks
    assert path is not None
    assert type(plan) is registry.resolve(path, name)
    applied = type(plan)(region="eu-west-1")
    assert (plan.applied, applied.applied) == (False, True)
    # Every invoke a plan answers, a test sees answered the same way (tests may see more).
    for token, answer in plan.invoke_answers().items():
        assert dict(applied.invoke_answers()[token]).items() >= dict(answer).items(), token
    probe = {"identity": {"type": "SystemAssigned"}, "project": "p", "roleId": "r"}
    for typ in (
        "aws:lb/loadBalancer:LoadBalancer",
        "gcp:projects/iAMCustomRole:IAMCustomRole",
        "azure-native:machinelearningservices:Compute",
    ):
        assert plan.previewed(typ, "n", probe) == applied.previewed(typ, "n", probe), typ
