"""SDK subpackages that import only the modules of the names looked up on them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_infra.registry._sdk_names import module_name_of

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("Network", "network"),
        ("RouterNat", "router_nat"),
        ("CryptoKeyIAMMember", "crypto_key_iam_member"),
        ("IAMCustomRole", "iam_custom_role"),
        ("BucketObjectv2", "bucket_objectv2"),
        ("BucketV2", "bucket_v2"),
        ("MlflowTrackingServer", "mlflow_tracking_server"),
        ("get_project", "get_project"),
        ("outputs", "outputs"),
    ],
)
def test_module_name_of_follows_the_code_generator(name: str, module: str) -> None:
    assert module_name_of(name) == module


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_LOOKUPS = """
import json, sys, types
import pulumi_gcp
from pulumi_gcp import compute, organizations
from mlops_infra.registry import resolve_sdk_names_on_demand
changed = resolve_sdk_names_on_demand()
found = {
    "Network": compute.Network is sys.modules["pulumi_gcp.compute.network"].Network,
    "NetworkArgs": compute.NetworkArgs is sys.modules["pulumi_gcp.compute.network"].NetworkArgs,
    "FirewallDenyArgs": compute.FirewallDenyArgs
        is sys.modules["pulumi_gcp.compute._inputs"].FirewallDenyArgs,
    "outputs": compute.outputs is sys.modules["pulumi_gcp.compute.outputs"],
    "get_project_output": organizations.get_project_output
        is sys.modules["pulumi_gcp.organizations.get_project"].get_project_output,
}
modules = sum(name.startswith("pulumi_gcp.compute.") for name in sys.modules)
# A name no module is named after: the subpackage loads whole, quietly.
whole = compute.AwaitableGetNetworkResult
loaded = sum(name.startswith("pulumi_gcp.compute.") for name in sys.modules)
with open(compute.__file__) as init:  # every module the package's __init__ imports
    listed = sum(line.startswith("from .") and line[6] != "." for line in init)
print(json.dumps({
    "listed": listed,
    "changed": changed, "found": found, "modules": modules, "loaded": loaded,
    "whole_is_same": whole is sys.modules["pulumi_gcp.compute.get_network"].AwaitableGetNetworkResult,
    "plain_module_after": type(compute) is types.ModuleType,
    "again": resolve_sdk_names_on_demand(),
}))
"""


def test_a_name_imports_its_module_only_and_anything_else_loads_the_whole_package() -> None:
    result = _run(_LOOKUPS)
    assert isinstance(result["changed"], int)
    assert result["changed"] > 100  # every pulumi_gcp subpackage not loaded yet
    assert result["found"] == {
        "Network": True,
        "NetworkArgs": True,
        "FirewallDenyArgs": True,
        "outputs": True,
        "get_project_output": True,
    }
    # network, _inputs, outputs, _enums if any, get_project's module is organizations'
    assert isinstance(result["modules"], int)
    assert result["modules"] <= 5
    assert isinstance(result["loaded"], int)
    assert isinstance(result["listed"], int)
    assert result["loaded"] >= result["listed"] > 200
    assert result["whole_is_same"] is True
    assert result["plain_module_after"] is True
    assert result["again"] == 0  # nothing left to change: idempotent


_PLAN = """
import json, sys, types
from pathlib import Path
from mlops_infra.cli.plan_cmd import plan_named_stack
plan_named_stack({stack!r}, Path.cwd())
whole = sorted(
    name for name, module in sys.modules.items()
    if name.startswith(("pulumi_aws.", "pulumi_gcp.", "pulumi_azure_native."))
    and name.count(".") == 1 and hasattr(module, "__path__")
    and type(module) is types.ModuleType and name.split(".")[1] != "config"
)
print(json.dumps({{"whole": whole}}))
"""


@pytest.mark.parametrize("stack", ["dev", "gcp-dev", "azure-dev"])
def test_planning_an_example_stack_loads_no_sdk_subpackage_whole(stack: str) -> None:
    assert _run(_PLAN.format(stack=stack)) == {"whole": []}
