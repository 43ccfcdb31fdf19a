"""AwsScope: partition, account and region are looked up once per run and provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs

from mlops_infra import load_stack_file
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws.testing import AwsMocks
from mlops_infra.offline import run_offline

from .helpers import STACKS, aws_registry, run_aws

_LOOKUPS = {
    "aws:index/getPartition:getPartition",
    "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:index/getRegion:getRegion",
}


class CountingMocks(AwsMocks):
    """AWS mocks that keep every invoke: ``(token, provider reference)``."""

    def __init__(self, account: str = "123456789012") -> None:
        super().__init__(calls={"aws:index/getCallerIdentity:getCallerIdentity": {
            "accountId": account}})  # fmt: skip
        self.invokes: list[tuple[str, str]] = []

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append((args.token, args.provider))
        return super().call(args)


def _lookups(mocks: CountingMocks) -> list[str]:
    return sorted(token for token, _ in mocks.invokes if token in _LOOKUPS)


def test_a_stack_looks_up_its_scope_once() -> None:
    mocks = CountingMocks()
    spec = load_stack_file(STACKS / "Pulumi.dev.yaml", registry=aws_registry())
    run_aws(spec, stack="dev", mocks=mocks)
    # dev names no region: the provider's is looked up too.
    assert _lookups(mocks) == sorted(_LOOKUPS)


def _two_components(
    region: str | None, *, explicit_provider: bool
) -> tuple[dict[str, Any], Callable[[], None]]:
    """A program building the scopes of two components; what it saw lands in the dict."""
    holder: dict[str, Any] = {}

    def program() -> None:
        first = pulumi.ComponentResource("test:index:Part", "first")
        opts = None
        if explicit_provider:
            provider = pulumi.ProviderResource("aws", "other", {"region": "us-west-2"})
            opts = pulumi.ResourceOptions(providers=[provider])
        second = pulumi.ComponentResource("test:index:Part", "second", None, opts)
        holder["first"] = AwsScope.current(region, first)
        holder["second"] = AwsScope.current(region, second)
        pulumi.Output.all(
            holder["first"].account_id, holder["second"].account_id, holder["second"].region
        ).apply(lambda values: holder.update(values=values))

    return holder, program


def test_components_with_the_same_provider_share_one_lookup() -> None:
    mocks = CountingMocks()
    seen, program = _two_components("eu-central-1", explicit_provider=False)
    run_offline(program, mocks=mocks)
    assert seen["first"] is seen["second"]
    # The target's region is used as given: no region lookup.
    assert _lookups(mocks) == sorted(_LOOKUPS - {"aws:index/getRegion:getRegion"})


def test_a_component_with_another_provider_gets_its_own_lookup() -> None:
    mocks = CountingMocks()
    seen, program = _two_components(None, explicit_provider=True)
    run_offline(program, mocks=mocks)
    assert seen["first"] is not seen["second"]
    assert len(_lookups(mocks)) == 2 * len(_LOOKUPS)
    providers = {provider for token, provider in mocks.invokes if token in _LOOKUPS}
    assert len(providers) == 2
    assert any("other" in provider for provider in providers)


def test_each_run_gets_its_own_answers() -> None:
    accounts: list[str] = []
    for account in ("111111111111", "222222222222"):
        seen, program = _two_components("eu-central-1", explicit_provider=False)
        run_offline(program, mocks=CountingMocks(account))
        accounts.append(seen["values"][0])
    assert accounts == ["111111111111", "222222222222"]
