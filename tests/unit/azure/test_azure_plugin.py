"""Registration of the azure cloud: flavors, options, and what gets imported when."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from azure_mocks import REPO
from pydantic import ValidationError

from mlops_infra.backends.azure.options import (
    AzureEndpointOptions,
    AzureStoreOptions,
    AzureTrackingOptions,
)
from mlops_infra.registry import Registry

DEFAULTS = {
    "foundation": "default",
    "artifact_store": "blob",
    "tracking_server": "azureml",
    "training_cluster": "amlcompute",
    "training_job": "azureml",
    "pipeline": "azureml",
    "serving_endpoint": "online-endpoint",
}


def test_every_kind_has_a_default_azure_flavor_that_loads() -> None:
    from mlops_infra.backends.azure.plugin import register

    registry = Registry(load_entry_points=False)
    register(registry)
    for kind, name in DEFAULTS.items():
        flavor = registry.flavor("azure", kind, None)
        assert flavor.name == name
        assert flavor.default
        assert flavor.requires == ("pulumi_azure_native",)
        assert flavor.extra == "azure"
        assert flavor.options is not None
        implementation = registry.load(flavor)
        assert implementation.__module__.startswith("mlops_infra.backends.azure.")


def test_security_defaults_of_the_options() -> None:
    assert AzureStoreOptions().shared_key_access is False
    assert AzureEndpointOptions().auth_mode == "AADToken"
    assert AzureTrackingOptions().public_network_access is None  # decided by the network
    assert AzureEndpointOptions().public_network_access is None  # decided by the network


def test_options_reject_unknown_keys_and_bad_names() -> None:
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        AzureStoreOptions.model_validate({"public": True})
    with pytest.raises(ValidationError, match="account_name"):
        AzureStoreOptions.model_validate({"account_name": "Not-Valid"})


def _imports_after(code: str) -> set[str]:
    """Azure SDK modules whose code ran (the SDK registers lazy stubs for every submodule;
    a package whose resource modules are loaded was really imported)."""
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import sys
        loaded = {m.rsplit(".", 1)[0] for m in sys.modules if m.count(".") >= 2
                  and m.startswith("pulumi_azure_native.")}
        print("\\n".join(sorted(loaded)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=300,
    )
    return set(result.stdout.split())


def test_plugin_imports_no_sdk() -> None:
    loaded = _imports_after(
        """
        from mlops_infra.registry import Registry
        from mlops_infra.backends.azure.plugin import register
        register(Registry(load_entry_points=False))
        """
    )
    assert loaded == set()


def test_network_sdk_is_imported_only_for_stacks_with_a_network() -> None:
    program = """
        import sys
        sys.path.insert(0, "tests/unit/azure")
        from azure_mocks import azure_run
        azure_run({{"environment": "dev", "network": {network}}})
        """
    without = _imports_after(program.format(network="{}"))
    assert "pulumi_azure_native.machinelearningservices" in without
    assert "pulumi_azure_native.network" not in without
    assert "pulumi_azure_native.privatedns" not in without
    with_network = _imports_after(program.format(network='{"create": True}'))
    assert "pulumi_azure_native.network" in with_network
