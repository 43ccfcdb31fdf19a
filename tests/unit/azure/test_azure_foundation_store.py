"""Foundation and artifact store on Azure, under mocks: exact types, names, security inputs."""

from __future__ import annotations

import uuid

import pulumi
import pytest
from azure_mocks import SUBSCRIPTION, TENANT, azure_run, principal_id

from mlops_infra.backends.azure._iam import ROLE_ASSIGNMENT_NAMESPACE, role_assignment_name
from mlops_infra.errors import BackendError
from mlops_infra.offline import run_offline
from mlops_infra.resources import ArtifactStore, ArtifactStoreArgs, Target
from mlops_infra.specs import StackSpec

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CRYPTO_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


def test_foundation_dev_creates_group_vault_key_and_registry() -> None:
    run = azure_run({"environment": "dev"})
    run.one("azure-native:resources:ResourceGroup", "mlops")
    run.one("azure-native:keyvault:Vault", "mlops-vault")
    run.one("azure-native:keyvault:Key", "mlops-key")
    run.one("azure-native:containerregistry:Registry", "mlops-registry")
    assert not run.of_type("azure-native:network:VirtualNetwork")
    # Every child of the Foundation component is parented to it.
    component = run.of_type("mlops:index:Foundation")[0]
    assert {r.name for r in run.children_of(component)} == {
        "mlops",
        "mlops-vault",
        "mlops-key",
        "mlops-registry",
        "mlops-logs",
        "mlops-vault-diagnostics",
        "mlops-registry-diagnostics",
    }

    vault = run.inputs("azure-native:keyvault:Vault", "mlops-vault")["properties"]
    assert vault["tenantId"] == TENANT
    assert vault["enableRbacAuthorization"] is True
    assert "accessPolicies" not in vault
    assert vault["enableSoftDelete"] is True
    assert vault["softDeleteRetentionInDays"] == 7
    assert "enablePurgeProtection" not in vault  # never set to false: it cannot be undone
    assert vault["publicNetworkAccess"] == "Enabled"
    assert vault["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    assert vault["sku"] == {"family": "A", "name": "standard"}
    assert run.inputs("azure-native:keyvault:Vault", "mlops-vault")["vaultName"].startswith(
        "kvmlopstest"
    )
    assert len(run.inputs("azure-native:keyvault:Vault", "mlops-vault")["vaultName"]) <= 24

    key = run.inputs("azure-native:keyvault:Key", "mlops-key")
    assert key["keyName"] == "cmk"
    assert key["properties"]["kty"] == "RSA"
    assert key["properties"]["keyOps"] == ["wrapKey", "unwrapKey"]
    rotation = key["properties"]["rotationPolicy"]["lifetimeActions"][0]
    assert rotation == {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P365D"}}

    registry = run.inputs("azure-native:containerregistry:Registry", "mlops-registry")
    assert registry["sku"] == {"name": "Standard"}
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    assert registry["publicNetworkAccess"] == "Enabled"
    assert "policies" not in registry  # retention and quarantine are Premium-only
    assert registry["registryName"].isalnum()

    tags = run.inputs("azure-native:keyvault:Vault", "mlops-vault")["tags"]
    assert tags["managed-by"] == "mlops-infra"
    assert tags["mlops-environment"] == "dev"
    assert tags["mlops-component"] == "mlops"
    # Not production: nothing protected; the group is retained so retained data survives.
    assert not run.one("azure-native:keyvault:Vault", "mlops-vault").protect
    assert run.one("azure-native:resources:ResourceGroup", "mlops").retain_on_delete


def test_foundation_prod_with_network_is_private_and_protected() -> None:
    run = azure_run({"environment": "prod", "network": {"create": True, "cidr": "10.8.0.0/16"}})
    vault = run.inputs("azure-native:keyvault:Vault", "mlops-vault")["properties"]
    assert vault["enablePurgeProtection"] is True
    assert vault["publicNetworkAccess"] == "Disabled"
    registry = run.inputs("azure-native:containerregistry:Registry", "mlops-registry")
    assert registry["sku"] == {"name": "Premium"}
    assert registry["publicNetworkAccess"] == "Disabled"
    assert registry["policies"]["retentionPolicy"] == {"days": 7, "status": "enabled"}
    assert registry["policies"]["quarantinePolicy"] == {"status": "disabled"}
    assert registry["policies"]["exportPolicy"] == {"status": "disabled"}
    for type_token, name in (
        ("azure-native:resources:ResourceGroup", "mlops"),
        ("azure-native:keyvault:Vault", "mlops-vault"),
        ("azure-native:keyvault:Key", "mlops-key"),
        ("azure-native:containerregistry:Registry", "mlops-registry"),
    ):
        assert run.one(type_token, name).protect, name
        assert run.one(type_token, name).retain_on_delete, name

    assert run.inputs("azure-native:network:VirtualNetwork", "mlops-vnet")["addressSpace"] == {
        "addressPrefixes": ["10.8.0.0/16"]
    }
    workloads = run.inputs("azure-native:network:Subnet", "mlops-subnet-workloads")
    assert workloads["addressPrefix"] == "10.8.0.0/18"
    assert workloads["defaultOutboundAccess"] is False
    assert workloads["networkSecurityGroup"]["id"] == "mlops-nsg-id"
    assert (
        run.inputs("azure-native:network:Subnet", "mlops-subnet-endpoints")["addressPrefix"]
        == "10.8.64.0/18"
    )
    vault_pe = run.inputs("azure-native:network:PrivateEndpoint", "mlops-vault-pe")
    connection = vault_pe["privateLinkServiceConnections"][0]
    assert connection["groupIds"] == ["vault"]
    assert connection["privateLinkServiceId"] == "mlops-vault-id"
    assert vault_pe["subnet"]["id"] == "mlops-subnet-endpoints-id"
    assert (
        run.inputs("azure-native:privatedns:PrivateZone", "mlops-vault-dns-0")["privateZoneName"]
        == "privatelink.vaultcore.azure.net"
    )
    assert (
        run.inputs("azure-native:privatedns:PrivateZone", "mlops-registry-dns-0")["privateZoneName"]
        == "privatelink.azurecr.io"
    )


def test_foundation_adopts_existing_network_without_creating_one() -> None:
    existing = {
        "id": "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v",
        "private_subnet_ids": ["/subnets/work", "/subnets/pe"],
    }
    run = azure_run({"environment": "dev", "network": {"existing": existing}})
    assert not run.of_type("azure-native:network:VirtualNetwork")
    assert (
        run.inputs("azure-native:network:PrivateEndpoint", "mlops-vault-pe")["subnet"]["id"]
        == "/subnets/pe"
    )
    assert run.inputs("azure-native:privatedns:VirtualNetworkLink", "mlops-vault-dns-0-link")[
        "virtualNetwork"
    ] == {"id": existing["id"]}


def test_store_dev_is_private_versioned_and_entra_only() -> None:
    run = azure_run({"environment": "dev"})
    account = run.inputs("azure-native:storage:StorageAccount", "mlops-store")
    assert account["kind"] == "StorageV2"
    assert account["sku"] == {"name": "Standard_LRS"}
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["allowCrossTenantReplication"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["defaultToOAuthAuthentication"] is True
    assert account["publicNetworkAccess"] == "Enabled"
    assert account["encryption"]["requireInfrastructureEncryption"] is True
    assert account["encryption"]["keySource"] == "Microsoft.Storage"  # no purge protection in dev
    assert account["accountName"].startswith("stmlopsstoretest")
    assert len(account["accountName"]) <= 24
    assert account["resourceGroupName"] == "rg-test"

    service = run.inputs("azure-native:storage:BlobServiceProperties", "mlops-store-blob-service")
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert service["changeFeed"] == {"enabled": True, "retentionInDays": 90}

    container = run.inputs("azure-native:storage:BlobContainer", "mlops-store-container")
    assert container["publicAccess"] == "None"
    assert container["containerName"] == "artifacts"
    assert "immutableStorageWithVersioning" not in container

    policy = run.inputs("azure-native:storage:ManagementPolicy", "mlops-store-lifecycle")
    assert policy["managementPolicyName"] == "default"
    rules = {rule["name"]: rule for rule in policy["policy"]["rules"]}
    assert set(rules) == {"tmp", "noncurrentversions"}
    assert rules["tmp"]["definition"]["filters"]["prefixMatch"] == ["artifacts/tmp/"]

    # Data outlives the stack (purge_on_delete off), but dev resources are not protected.
    assert run.one("azure-native:storage:StorageAccount", "mlops-store").retain_on_delete
    assert run.one("azure-native:storage:BlobContainer", "mlops-store-container").retain_on_delete
    assert not run.one("azure-native:storage:StorageAccount", "mlops-store").protect
    assert not run.of_type(ROLE_ASSIGNMENT)
    assert run.outputs["artifact_uri"] == (
        f"https://{account['accountName']}.blob.core.windows.net/artifacts"
    )


def test_store_prod_uses_the_foundation_key_through_a_granted_identity() -> None:
    run = azure_run({"environment": "prod"})
    account = run.inputs("azure-native:storage:StorageAccount", "mlops-store")
    assert account["sku"] == {"name": "Standard_ZRS"}
    assert account["identity"]["type"] == "UserAssigned"
    assert account["identity"]["userAssignedIdentities"] == ["mlops-store-identity-id"]
    encryption = account["encryption"]
    assert encryption["keySource"] == "Microsoft.Keyvault"
    assert encryption["keyVaultProperties"]["keyName"] == "cmk"
    assert encryption["keyVaultProperties"]["keyVaultUri"].startswith("https://kvmlopstest")
    assert encryption["encryptionIdentity"] == {
        "encryptionUserAssignedIdentity": "mlops-store-identity-id"
    }
    grant = run.inputs("azure-native:authorization:RoleAssignment", "mlops-store-key-access")
    assert grant["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{CRYPTO_USER}"
    )
    assert grant["scope"] == "mlops-vault-id/keys/cmk"  # the key only, not the vault
    assert grant["principalId"] == principal_id("mlops-store-identity")
    assert grant["principalType"] == "ServicePrincipal"
    for type_token, name in (
        ("azure-native:storage:StorageAccount", "mlops-store"),
        ("azure-native:storage:BlobContainer", "mlops-store-container"),
    ):
        assert run.one(type_token, name).protect
        assert run.one(type_token, name).retain_on_delete


def test_store_object_lock_uses_version_level_immutability() -> None:
    run = azure_run({"environment": "dev", "artifact_store": {"object_lock_days": 30}})
    container = run.inputs("azure-native:storage:BlobContainer", "mlops-store-container")
    assert container["immutableStorageWithVersioning"] == {"enabled": True}
    policy = run.inputs(
        "azure-native:storage:BlobContainerImmutabilityPolicy", "mlops-store-immutability"
    )
    assert policy["immutabilityPeriodSinceCreationInDays"] == 30
    assert policy["containerName"] == "artifacts"


def test_store_options_and_purge_on_delete() -> None:
    run = azure_run(
        {
            "environment": "dev",
            "artifact_store": {
                "bucket_name": "ml-data",
                "purge_on_delete": True,
                "options": {"account_name": "mystore01", "sku": "Standard_GZRS"},
            },
        }
    )
    account = run.inputs("azure-native:storage:StorageAccount", "mlops-store")
    assert account["accountName"] == "mystore01"
    assert account["sku"] == {"name": "Standard_GZRS"}
    assert not run.one("azure-native:storage:StorageAccount", "mlops-store").retain_on_delete
    assert run.outputs["artifact_uri"] == "https://mystore01.blob.core.windows.net/ml-data"


def test_store_with_network_has_private_endpoints() -> None:
    run = azure_run({"environment": "dev", "network": {"create": True}})
    account = run.inputs("azure-native:storage:StorageAccount", "mlops-store")
    assert account["publicNetworkAccess"] == "Disabled"
    assert account["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    assert run.names("azure-native:network:PrivateEndpoint") == [
        "mlops-registry-pe",
        "mlops-store-blob-pe",
        "mlops-store-file-pe",
        "mlops-tracking-workspace-pe",
        "mlops-vault-pe",
    ]
    assert run.inputs("azure-native:privatedns:PrivateZone", "mlops-store-blob-dns-0")[
        "privateZoneName"
    ] == ("privatelink.blob.core.windows.net")


def test_store_rejects_a_key_uri_it_cannot_grant_on() -> None:
    with pytest.raises(BackendError, match="give the key's ARM id"):
        azure_run(
            {
                "environment": "dev",
                "artifact_store": {"encryption_key": "https://kv.vault.azure.net/keys/k"},
            }
        )


def test_components_need_the_azure_foundation() -> None:
    def program() -> None:
        ArtifactStore(
            "store",
            ArtifactStoreArgs(target=Target(cloud="azure", environment="dev")),
            pulumi.ResourceOptions(),
        )

    with pytest.raises(BackendError, match="need the reference of an Azure Foundation"):
        run_offline(program)


def test_an_endpoint_list_is_refused_on_azure() -> None:
    """`network.endpoints` chooses AWS interface endpoints; Azure has per-resource ones."""
    spec = {"environment": "prod", "network": {"create": True, "endpoints": ["logs"]}}
    with pytest.raises(
        Exception, match=r"network.endpoints \['logs'\]: azure creates no per-service"
    ):
        azure_run(spec)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_destroy_retains_the_key_in_every_tier(environment: str) -> None:
    """Issue 15 item 2: azure-native creates keys through ARM but deletes them through the
    vault's data plane (https://learn.microsoft.com/en-us/azure/key-vault/general/
    security-features: management plane vs data plane), which the vault's firewall
    (default action Deny) and the deployer's roles (no Key Vault Crypto Officer) refuse:
    the key is retained on destroy, so destroy succeeds; it goes with the vault (soft
    deleted, purged after the retention period)."""
    run = azure_run({"environment": environment})
    key = run.one("azure-native:keyvault:Key", "mlops-key")
    assert key.retain_on_delete
    assert key.protect is (environment == "prod")
    # The vault itself is deleted through ARM (dev) and keeps its firewall.
    assert run.one("azure-native:keyvault:Vault", "mlops-vault").retain_on_delete is (
        environment == "prod"
    )


def test_cmk_account_is_created_after_its_key_grant_has_propagated() -> None:
    """Issue 15 item 4: role assignments take effect after up to 10 minutes
    (https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting
    #symptom---role-assignment-changes-are-not-being-detected); the CMK account reads its key
    while it is created, so it waits for the grant."""
    run = azure_run({"environment": "prod"})
    grant = run.one("azure-native:authorization:RoleAssignment", "mlops-store-key-access")
    wait = run.one(
        "pulumi-python:dynamic/mlops:AzurePropagationWait", "mlops-store-key-access-wait"
    )
    assert wait.plain_inputs()["after"] == "mlops-store-key-access-id"
    assert wait.plain_inputs()["seconds"] == 300
    assert grant.urn in wait.depends_on
    account = run.one("azure-native:storage:StorageAccount", "mlops-store")
    assert wait.urn in account.depends_on
    assert wait.parent == run.of_type("mlops:index:ArtifactStore")[0].urn


def test_key_grant_wait_is_an_option_and_absent_without_a_cmk() -> None:
    run = azure_run({"environment": "prod", "artifact_store": {"options": {"key_grant_wait_s": 0}}})
    assert (
        run.inputs(
            "pulumi-python:dynamic/mlops:AzurePropagationWait", "mlops-store-key-access-wait"
        )["seconds"]
        == 0
    )
    dev = azure_run({"environment": "dev"})
    assert not dev.of_type("pulumi-python:dynamic/mlops:AzurePropagationWait")


def test_role_assignment_names_are_deterministic_guids() -> None:
    """Issue 15 item 13: a random assignment name ends in 409 RoleAssignmentExists after a
    state loss or an import (one assignment per scope, principal and role:
    https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting).
    The name is a GUID (https://learn.microsoft.com/en-us/azure/role-based-access-control/
    role-assignments-rest) derived from scope, principal and role, so a second up PUTs the
    same assignment."""
    first = azure_run({"environment": "prod"})
    again = azure_run({"environment": "prod"})
    grant = first.inputs("azure-native:authorization:RoleAssignment", "mlops-store-key-access")
    expected = uuid.uuid5(
        ROLE_ASSIGNMENT_NAMESPACE,
        f"mlops-vault-id/keys/cmk|{principal_id('mlops-store-identity')}|{CRYPTO_USER}",
    )
    assert grant["roleAssignmentName"] == str(expected)
    assert again.inputs("azure-native:authorization:RoleAssignment", "mlops-store-key-access")[
        "roleAssignmentName"
    ] == str(expected)
    # Replacing an assignment deletes the old one first (the same scope, principal and
    # role cannot be assigned twice).
    assert first.one(
        "azure-native:authorization:RoleAssignment", "mlops-store-key-access"
    ).delete_before_replace


def test_role_assignment_name_is_a_function_of_scope_principal_and_role() -> None:
    names = {
        role_assignment_name(scope, principal, role)
        for scope in ("/s/a", "/s/b")
        for principal in ("p1", "p2")
        for role in ("r1", "r2")
    }
    assert len(names) == 8
    assert role_assignment_name("/s/a", "p1", "r1") == role_assignment_name("/s/a", "p1", "r1")
    assert role_assignment_name("/S/A", "p1", "R1") == role_assignment_name("/s/a", "p1", "r1")


@pytest.mark.parametrize(("environment", "retention"), [("dev", 30), ("prod", 90)])
def test_audit_logs_of_every_stateful_resource_go_to_log_analytics(
    environment: str, retention: int
) -> None:
    """Issue 15 item 13: no diagnostic settings or Log Analytics anywhere. Diagnostic
    settings send a resource's category groups to a Log Analytics workspace
    (https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/diagnostic-settings);
    blob logs are a setting of the blob service, not the account
    (https://learn.microsoft.com/en-us/azure/storage/blobs/monitor-blob-storage)."""
    run = azure_run({"environment": environment})
    logs = run.one("azure-native:operationalinsights:Workspace", "mlops-logs")
    got = logs.plain_inputs()
    assert got["sku"] == {"name": "PerGB2018"}
    assert got["retentionInDays"] == retention
    assert got["resourceGroupName"] == "rg-test"
    assert got["workspaceName"].startswith(f"log-mlops-{'test'}-")
    assert run.names("azure-native:monitor:DiagnosticSetting") == [
        "mlops-registry-diagnostics",
        "mlops-store-blob-diagnostics",
        "mlops-tracking-workspace-diagnostics",
        "mlops-vault-diagnostics",
    ]
    targets = {
        "mlops-vault-diagnostics": "mlops-vault-id",
        "mlops-registry-diagnostics": "mlops-registry-id",
        "mlops-store-blob-diagnostics": "mlops-store-id/blobServices/default",
        "mlops-tracking-workspace-diagnostics": "mlops-tracking-id",
    }
    for name, target in targets.items():
        setting = run.inputs("azure-native:monitor:DiagnosticSetting", name)
        assert setting["resourceUri"] == target, name
        assert setting["workspaceId"] == "mlops-logs-id", name
        assert setting["name"] == "mlops-infra-audit", name
        assert setting["logs"] == [{"categoryGroup": "audit", "enabled": True}], name


HUB = "/subscriptions/hub/resourceGroups/dns/providers/Microsoft.Network/privateDnsZones"
ALL_ZONES = {
    zone: f"{HUB}/{zone}"
    for zone in (
        "privatelink.vaultcore.azure.net",
        "privatelink.azurecr.io",
        "privatelink.blob.core.windows.net",
        "privatelink.file.core.windows.net",
        "privatelink.api.azureml.ms",
        "privatelink.notebooks.azure.net",
    )
}
SPOKE = {
    "id": "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v",
    "private_subnet_ids": ["/subnets/work", "/subnets/pe"],
}


def test_adopted_network_with_central_dns_zones_creates_no_zones_or_links() -> None:
    """Issue 15 item 6: in hub and spoke, the privatelink zones live in the hub and are linked
    there; Azure refuses linking a second zone of the same name to a network
    (https://learn.microsoft.com/en-us/azure/private-link/private-endpoint-dns-integration,
    https://learn.microsoft.com/en-us/azure/dns/private-dns-virtual-network-links)."""
    existing = {**SPOKE, "private_dns_zone_ids": ALL_ZONES}
    run = azure_run({"environment": "dev", "network": {"existing": existing}})
    assert not run.of_type("azure-native:privatedns:PrivateZone")
    assert not run.of_type("azure-native:privatedns:VirtualNetworkLink")
    groups = {
        r.name: r.plain_inputs()["privateDnsZoneConfigs"]
        for r in run.of_type("azure-native:network:PrivateDnsZoneGroup")
    }
    assert groups == {
        "mlops-vault-pe-dns": [
            {"name": "zone-0", "privateDnsZoneId": ALL_ZONES["privatelink.vaultcore.azure.net"]}
        ],
        "mlops-registry-pe-dns": [
            {"name": "zone-0", "privateDnsZoneId": ALL_ZONES["privatelink.azurecr.io"]}
        ],
        "mlops-store-blob-pe-dns": [
            {"name": "zone-0", "privateDnsZoneId": ALL_ZONES["privatelink.blob.core.windows.net"]}
        ],
        "mlops-store-file-pe-dns": [
            {"name": "zone-0", "privateDnsZoneId": ALL_ZONES["privatelink.file.core.windows.net"]}
        ],
        "mlops-tracking-workspace-pe-dns": [
            {"name": "zone-0", "privateDnsZoneId": ALL_ZONES["privatelink.api.azureml.ms"]},
            {"name": "zone-1", "privateDnsZoneId": ALL_ZONES["privatelink.notebooks.azure.net"]},
        ],
    }


def test_unknown_or_mismatched_dns_zones_are_named() -> None:
    unknown = {**ALL_ZONES, "privatelink.database.windows.net": f"{HUB}/x"}
    with pytest.raises(
        BackendError,
        match=r"private_dns_zone_ids: unknown zone 'privatelink.database.windows.net'; "
        r"the azure backend uses privatelink.api.azureml.ms, ",
    ):
        azure_run(
            {
                "environment": "dev",
                "network": {"existing": {**SPOKE, "private_dns_zone_ids": unknown}},
            }
        )
    wrong = {**ALL_ZONES, "privatelink.azurecr.io": f"{HUB}/privatelink.blob.core.windows.net"}
    with pytest.raises(
        BackendError, match=r"'privatelink.azurecr.io' names .* not a private DNS zone of that name"
    ):
        azure_run(
            {
                "environment": "dev",
                "network": {"existing": {**SPOKE, "private_dns_zone_ids": wrong}},
            }
        )


def test_a_missing_central_zone_is_named() -> None:
    partial = {k: v for k, v in ALL_ZONES.items() if k != "privatelink.file.core.windows.net"}
    with pytest.raises(
        Exception,
        match=r"network.existing.private_dns_zone_ids has no 'privatelink.file.core.windows.net'",
    ):
        azure_run(
            {
                "environment": "dev",
                "network": {"existing": {**SPOKE, "private_dns_zone_ids": partial}},
            }
        )


def test_a_created_network_gives_workloads_an_outbound_path() -> None:
    """Issue 15 item 11: the workload subnet has default outbound access off, so compute
    nodes (no public IPs) had no way out: Azure ML compute needs outbound access to its
    services and environment builds to the package indexes
    (https://learn.microsoft.com/en-us/azure/machine-learning/how-to-secure-training-vnet).
    A NAT gateway is the subnet's explicit outbound path
    (https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/default-outbound-access)."""
    run = azure_run({"environment": "prod", "network": {"create": True, "cidr": "10.8.0.0/16"}})
    address = run.one("azure-native:network:PublicIPAddress", "mlops-nat-ip")
    assert address.plain_inputs()["sku"] == {"name": "Standard"}
    assert address.plain_inputs()["publicIPAllocationMethod"] == "Static"
    nat = run.one("azure-native:network:NatGateway", "mlops-nat")
    assert nat.plain_inputs()["sku"] == {"name": "Standard"}
    assert nat.plain_inputs()["publicIpAddresses"] == [{"id": "mlops-nat-ip-id"}]
    workloads = run.inputs("azure-native:network:Subnet", "mlops-subnet-workloads")
    assert workloads["natGateway"] == {"id": "mlops-nat-id"}
    assert workloads["defaultOutboundAccess"] is False
    assert "natGateway" not in run.inputs("azure-native:network:Subnet", "mlops-subnet-endpoints")
    # An adopted network brings its own path.
    adopted = azure_run({"environment": "dev", "network": {"existing": SPOKE}})
    assert not adopted.of_type("azure-native:network:NatGateway")


def test_the_workspace_reports_to_a_workspace_based_application_insights() -> None:
    """Issue 15 item 13: no Application Insights anywhere. A workspace-based component keeps
    its telemetry in the stack's Log Analytics workspace
    (https://learn.microsoft.com/en-us/azure/azure-monitor/app/create-workspace-resource) and
    the ML workspace names it (its applicationInsights property)."""
    run = azure_run({"environment": "dev"})
    insights = run.one("azure-native:applicationinsights:Component", "mlops-tracking-insights")
    got = insights.plain_inputs()
    assert got["resourceName"].startswith("appi-mlops-tracking-test-")
    assert got["kind"] == "web"
    assert got["applicationType"] == "web"
    assert got["workspaceResourceId"] == "mlops-logs-id"
    assert got["ingestionMode"] == "LogAnalytics"
    assert got["resourceGroupName"] == "rg-test"
    assert got["tags"]["mlops-component"] == "mlops-tracking"
    assert (
        run.inputs("azure-native:machinelearningservices:Workspace", "mlops-tracking")[
            "applicationInsights"
        ]
        == "mlops-tracking-insights-id"
    )
    assert "mlops:index:TrackingServer" in (insights.parent or "")


DEPLOYER = {"deployer_ip_ranges": ["52.10.20.30", "20.61.0.0/24"]}


def test_deployer_ranges_need_a_created_network() -> None:
    """Without a network store and workspace take requests from anywhere already; an adopted
    network's deployments run from its own (hub) runners (README)."""
    for network in ({}, {"existing": SPOKE}):
        data = {"cloud": "azure", "network": {**network, "options": DEPLOYER}}
        with pytest.raises(ValueError, match=r"network.options\n  applies to a created network"):
            StackSpec.model_validate(data)


def test_deployer_ranges_and_a_public_workspace_are_refused() -> None:
    spec = {
        "environment": "dev",
        "network": {"create": True, "options": DEPLOYER},
        "tracking": {"options": {"public_network_access": True}},
    }
    with pytest.raises(
        Exception, match=r"options.public_network_access opens the workspace to every address"
    ):
        azure_run(spec)


@pytest.mark.parametrize(
    ("ranges", "says"),
    [
        (["10.1.0.0/16"], "'10.1.0.0/16' is not allowed; allowed: public internet IPv4"),
        (["2001:4860::/32"], "'2001:4860::/32' is not allowed"),
        (["52.10.20.1/24"], "'52.10.20.1/24' is not an IPv4 address or range"),
        (["52.10.20.30", "52.10.20.30/32"], "'52.10.20.30/32' is given twice"),
    ],
)
def test_deployer_ranges_are_public_ipv4(ranges: list[str], says: str) -> None:
    """Azure IP rules take public IPv4 addresses only (storage-network-security;
    how-to-configure-private-link#restrictions-for-ip-network-rules)."""
    data = {
        "cloud": "azure",
        "network": {"create": True, "options": {"deployer_ip_ranges": ranges}},
    }
    with pytest.raises(ValueError, match=r"network\.options\.deployer_ip_ranges") as error:
        StackSpec.model_validate(data)
    assert says in str(error.value)
