"""Azure foundation: resource group, optional virtual network, ACR, Key Vault and a CMK key.

* Resource group, auto-named from the component (or the one named by
  ``options.resource_group_name``), retained on ``pulumi destroy``: destroy removes the
  stack's resources one by one and keeps the data the components retain (an unpurged
  artifact store) instead of deleting it with the group; a later ``up`` starts a new group.
* Virtual network when ``network.create`` (or the adopted ``network.existing``): a
  workload subnet without default outbound access and a private-endpoint subnet.
* Azure Container Registry: admin user and anonymous pull off; ``Premium`` only where a
  Premium feature is needed (private network, or production for the untagged-manifest
  retention policy); public network access off with a private endpoint when the stack
  has a network.
* Key Vault with RBAC authorization (no access policies), soft delete for
  ``secrets.recovery_window_days``, purge protection in production, firewall denying all
  but trusted Azure services, public network access off when the stack has a network.
* An RSA key (wrap/unwrap only) with a rotation policy: the stack's customer-managed key.
* ``network.options.deployer_ip_ranges`` (a created network's options): the addresses
  ``pulumi up`` runs from, which the private store and workspace then accept (vault and
  registry stay private).
* A Log Analytics workspace (``<name>-logs``, ``options.log_retention_days``) receiving the
  audit logs of the vault, the registry and every component's resources (diagnostic
  settings ``<name>-<role>-diagnostics``).

Stateful (protected and retained in production): resource group, vault, key, registry.
The key is retained on ``pulumi destroy`` in every tier (deleting it needs the vault's
data plane, which its firewall and the deployer's roles refuse); it goes with the vault.

Not available through the registry API and so left to the subscription: tag immutability
(ACR repository locks), vulnerability scanning on push (Microsoft Defender for Containers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, containerregistry, keyvault, resources

from mlops_infra.backends.azure._diagnostics import log_workspace, send_audit_logs
from mlops_infra.backends.azure._naming import compact, unique_suffix
from mlops_infra.backends.azure._scope import AzureFoundationRef
from mlops_infra.backends.azure.options import AzureFoundationOptions, RegistrySku
from mlops_infra.resources import BuildContext, FoundationArgs, FoundationBackend

__all__ = ["AzureFoundation"]

_UNTAGGED_RETENTION_DAYS = 7


class AzureFoundation(FoundationBackend):
    """Resource group, network, registry, vault and key shared by the stack's components."""

    def create(self, ctx: BuildContext[FoundationArgs]) -> AzureFoundationRef:
        """Creates (or adopts) the shared infrastructure."""
        options = ctx.options_as(AzureFoundationOptions)
        target = ctx.target
        location = options.location or target.region
        client = authorization.get_client_config_output()
        subscription_id = client.subscription_id
        tenant_id = client.tenant_id
        if options.resource_group_name is not None:
            group_name: pulumi.Input[str] = options.resource_group_name
        else:
            group = resources.ResourceGroup(
                ctx.child_name(),
                location=location,
                tags=ctx.tags(),
                # Deleting a group deletes all it holds, retained data included.
                opts=pulumi.ResourceOptions.merge(
                    ctx.opts(stateful=True), pulumi.ResourceOptions(retain_on_delete=True)
                ),
            )
            group_name = group.name
        unique = pulumi.Output.all(subscription_id, group_name).apply(
            lambda parts: unique_suffix(*parts)
        )

        net = _network(ctx, group_name, location)
        network_id = net.network_id
        private = network_id is not None
        production = target.protects_stateful
        purge_protection = (
            options.purge_protection if options.purge_protection is not None else production
        )

        logs = log_workspace(
            ctx,
            resource_group_name=group_name,
            location=location,
            unique=unique,
            retention_days=options.log_retention_days or (90 if production else 30),
        )

        vault_name = unique.apply(lambda u: compact("kv", f"{ctx.name}{ctx.stack_name}", u, 24))
        vault = keyvault.Vault(
            ctx.child_name("vault"),
            resource_group_name=group_name,
            location=location,
            vault_name=vault_name,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(
                    family=keyvault.SkuFamily.A, name=keyvault.SkuName(options.key_vault_sku)
                ),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=target.secrets.recovery_window_days,
                # Purge protection can be turned on, never off: leave it unset rather than false.
                enable_purge_protection=True if purge_protection else None,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
                public_network_access="Disabled" if private else "Enabled",
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=keyvault.NetworkRuleAction.DENY,
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                ),
            ),
            tags=ctx.tags(),
            opts=ctx.opts(stateful=True),
        )
        rotation = options.key_rotation_days
        key = keyvault.Key(
            ctx.child_name("key"),
            resource_group_name=group_name,
            vault_name=vault_name,
            key_name="cmk",
            properties=keyvault.KeyPropertiesArgs(
                kty=keyvault.JsonWebKeyType.RSA,
                key_size=3072,
                key_ops=[
                    keyvault.JsonWebKeyOperation.WRAP_KEY,
                    keyvault.JsonWebKeyOperation.UNWRAP_KEY,
                ],
                rotation_policy=keyvault.RotationPolicyArgs(
                    attributes=keyvault.KeyRotationPolicyAttributesArgs(
                        expiry_time=f"P{rotation * 2}D"
                    ),
                    lifetime_actions=[
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(
                                type=keyvault.KeyRotationPolicyActionType.ROTATE
                            ),
                            trigger=keyvault.TriggerArgs(time_after_create=f"P{rotation}D"),
                        )
                    ],
                ),
            ),
            tags=ctx.tags(),
            # Retained on destroy in every tier: azure-native deletes keys through the
            # vault's data plane, which the vault's firewall (Deny) and the deployer's roles
            # refuse; the key goes with its vault (soft delete, then purge).
            # https://learn.microsoft.com/en-us/azure/key-vault/general/security-features
            opts=ctx.opts(stateful=True, depends_on=[vault], retain_on_delete=True),
        )
        # Built from the name we chose, once the vault exists (its id is a dependency).
        vault_uri = pulumi.Output.all(vault.id, vault_name).apply(
            lambda parts: f"https://{parts[1]}.vault.azure.net/"
        )

        registry_url: pulumi.Input[str | None] = None
        registry_id: pulumi.Input[str | None] = None
        if target.container_registry.create:
            sku: RegistrySku = options.registry_sku or (
                "Premium" if private or production else "Standard"
            )
            registry = containerregistry.Registry(
                ctx.child_name("registry"),
                resource_group_name=group_name,
                location=location,
                registry_name=unique.apply(
                    lambda u: compact("cr", f"{ctx.name}{ctx.stack_name}", u, 50)
                ),
                sku=containerregistry.SkuArgs(name=sku),
                admin_user_enabled=False,
                anonymous_pull_enabled=False,
                public_network_access="Disabled" if private else "Enabled",
                network_rule_bypass_options="AzureServices",
                policies=_registry_policies(sku, private=private),
                tags=ctx.tags(),
                opts=ctx.opts(stateful=True),
            )
            registry_url = registry.login_server
            registry_id = registry.id

        ref = AzureFoundationRef(
            network_id=network_id,
            private_subnet_ids=net.workload_subnets,
            security_group_ids=net.security_groups,
            registry_url=registry_url,
            encryption_key=key.key_uri,
            resource_group_name=group_name,
            subscription_id=subscription_id,
            tenant_id=tenant_id,
            unique=unique,
            location=location,
            private_network=private,
            endpoint_subnet_id=net.endpoint_subnet,
            private_dns_zone_ids=(
                target.network.existing.private_dns_zone_ids
                if target.network.existing is not None
                else None
            ),
            key_vault_id=vault.id,
            key_vault_uri=vault_uri,
            key_name=pulumi.Output.all(key.id).apply(lambda _: "cmk"),
            key_usable_for_storage=purge_protection,
            registry_id=registry_id,
            log_workspace_id=logs.id,
            deployer_ip_ranges=options.deployer_ip_ranges if private else (),
        )
        send_audit_logs(ctx, "vault", foundation=ref, resource_uri=vault.id)
        if registry_id is not None:
            send_audit_logs(ctx, "registry", foundation=ref, resource_uri=registry_id)
        if private:
            from mlops_infra.backends.azure._private_link import private_endpoint  # noqa: PLC0415 - network SDK only when asked

            private_endpoint(
                ctx,
                "vault",
                foundation=ref,
                target_id=vault.id,
                group_id="vault",
                zones=["privatelink.vaultcore.azure.net"],
            )
            if registry_id is not None:
                private_endpoint(
                    ctx,
                    "registry",
                    foundation=ref,
                    target_id=registry_id,
                    group_id="registry",
                    zones=["privatelink.azurecr.io"],
                )
        return ref


@dataclass(frozen=True)
class _Network:
    """The stack's network, created, adopted or none (all ``None``)."""

    network_id: pulumi.Input[str | None] = None
    workload_subnets: pulumi.Input[list[str] | None] = None
    endpoint_subnet: pulumi.Input[str | None] = None
    security_groups: pulumi.Input[list[str] | None] = None


def _network(
    ctx: BuildContext[FoundationArgs], group_name: pulumi.Input[str], location: str | None
) -> _Network:
    """Creates the network with ``network.create``, adopts ``network.existing``, or none."""
    spec = ctx.target.network
    if spec.create:
        from mlops_infra.backends.azure._network import create_network  # noqa: PLC0415 - network SDK only when asked

        created = create_network(ctx, spec, resource_group_name=group_name, location=location)
        return _Network(
            network_id=created.network_id,
            workload_subnets=pulumi.Output.all(created.workload_subnet_id),
            endpoint_subnet=created.endpoint_subnet_id,
            security_groups=pulumi.Output.all(created.security_group_id),
        )
    if spec.existing is not None:
        if spec.existing.private_dns_zone_ids is not None:
            from mlops_infra.backends.azure._private_link import check_zone_ids  # noqa: PLC0415 - network SDK only when asked

            check_zone_ids(spec.existing.private_dns_zone_ids)
        # The first subnet runs workloads; the last one holds private endpoints.
        return _Network(
            network_id=spec.existing.id,
            workload_subnets=list(spec.existing.private_subnet_ids[:1]),
            endpoint_subnet=spec.existing.private_subnet_ids[-1],
        )
    return _Network()


def _registry_policies(sku: RegistrySku, *, private: bool) -> containerregistry.PoliciesArgs | None:
    """Retention of untagged manifests and export lock: Premium-only policies."""
    if sku != "Premium":
        return None
    return containerregistry.PoliciesArgs(
        retention_policy=containerregistry.RetentionPolicyArgs(
            days=_UNTAGGED_RETENTION_DAYS, status=containerregistry.PolicyStatus.ENABLED
        ),
        # Quarantine holds every pushed image until a scanner releases it; without one
        # configured it would block all pulls, so it stays off.
        quarantine_policy=containerregistry.QuarantinePolicyArgs(
            status=containerregistry.PolicyStatus.DISABLED
        ),
        # Export (exfiltration) lock needs public network access off.
        export_policy=containerregistry.ExportPolicyArgs(
            status=containerregistry.ExportPolicyStatus.DISABLED
            if private
            else containerregistry.ExportPolicyStatus.ENABLED
        ),
    )
