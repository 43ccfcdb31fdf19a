"""Azure artifact store: a StorageV2 account and a private blob container.

* Account: HTTPS only, TLS 1.2 minimum, no public blob access, no shared key (Entra ID
  only, unless ``options.shared_key_access``), OAuth by default in the portal, no
  cross-tenant replication, infrastructure (double) encryption; public network access
  off with private endpoints when the stack has a network (with
  ``network.options.deployer_ip_ranges``: denied to all but those addresses, whose ``up``
  uploads code packages).
* Encryption with a customer-managed key when the spec names one (its ARM id) or the
  foundation's vault has purge protection (production), through a user-assigned
  identity granted *Key Vault Crypto Service Encryption User* on that key only; else
  Microsoft-managed keys (Azure Storage refuses a CMK vault without purge protection).
  The account is created ``options.key_grant_wait_s`` after that grant (``<name>-key-access-wait``),
  once the role assignment has propagated.
* Blob service: versioning, soft delete of blobs and containers, change feed; its audit
  logs go to the stack's Log Analytics workspace (``<name>-blob-diagnostics``).
* Container (public access ``None``), version-level immutability with a default
  time-based retention policy when ``object_lock_days`` is set (container-level WORM is
  not allowed with versioning).
* Lifecycle management policy from ``lifecycle`` and ``noncurrent_version_days``.

Stateful: account and container are protected in production and retained on delete
unless ``purge_on_delete``.
"""

from __future__ import annotations

import re

import pulumi
from pulumi_azure_native import managedidentity, storage

from mlops_infra.backends.azure._deployer_access import storage_ip_rules
from mlops_infra.backends.azure._diagnostics import send_audit_logs
from mlops_infra.backends.azure._iam import grant
from mlops_infra.backends.azure._naming import compact
from mlops_infra.backends.azure._propagation import PropagationWait
from mlops_infra.backends.azure._scope import AzureFoundationRef, azure_foundation
from mlops_infra.backends.azure.options import AzureStoreOptions
from mlops_infra.errors import BackendError
from mlops_infra.resources import ArtifactStoreArgs, ArtifactStoreBackend, BuildContext, StoreRef
from mlops_infra.specs import ArtifactStoreSpec, ExistingArtifactStore

__all__ = ["BlobArtifactStore", "lifecycle_rules"]

_DEFAULT_CONTAINER = "artifacts"
_KEY_ID_RE = re.compile(
    r"^(?P<vault_id>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.KeyVault/vaults/(?P<vault>[^/]+))/keys/(?P<key>[^/]+)$",
    re.IGNORECASE,
)


class _Cmk:
    """A customer-managed key: the vault to grant on and the key to encrypt with."""

    def __init__(
        self, key_id: pulumi.Input[str], vault_uri: pulumi.Input[str], key_name: pulumi.Input[str]
    ) -> None:
        self.key_id = key_id
        self.vault_uri = vault_uri
        self.key_name = key_name


class BlobArtifactStore(ArtifactStoreBackend):
    """A StorageV2 account with one private container; Entra ID access only by default."""

    def create(self, ctx: BuildContext[ArtifactStoreArgs], spec: ArtifactStoreSpec) -> StoreRef:
        """Creates the account, its blob service settings, the container and its policies."""
        options = ctx.options_as(AzureStoreOptions)
        foundation = azure_foundation(ctx.args.foundation, ctx.name)
        group = foundation.resource_group_name
        location = foundation.location
        sku = options.sku or (
            "Standard_ZRS" if ctx.target.profile.high_availability else "Standard_LRS"
        )
        stateful = ctx.opts(stateful=True)
        if not spec.purge_on_delete:
            # The data outlives the stack unless the spec asks to purge it.
            stateful = pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(retain_on_delete=True)
            )

        cmk = _customer_key(spec, foundation)
        encryption_key: pulumi.Input[str | None] = None
        identity: storage.IdentityArgs | None = None
        encryption = storage.EncryptionArgs(
            key_source=storage.KeySource.MICROSOFT_STORAGE,
            require_infrastructure_encryption=True,
            services=_encrypted_services(),
        )
        depends_on: list[pulumi.Resource] = []
        if cmk is not None:
            user = managedidentity.UserAssignedIdentity(
                ctx.child_name("identity"),
                resource_group_name=group,
                location=location,
                tags=ctx.tags(),
                opts=ctx.opts(),
            )
            key_access = grant(
                ctx,
                "key-access",
                role="Key Vault Crypto Service Encryption User",
                principal_id=user.principal_id,
                scope=cmk.key_id,
                subscription_id=foundation.subscription_id,
            )
            # The account reads the key through its identity as it is created: created
            # right after the grant, it fails until the grant has propagated.
            depends_on.append(
                PropagationWait(
                    ctx.child_name("key-access-wait"),
                    after=key_access.id,
                    seconds=options.key_grant_wait_s,
                    what=f"{ctx.name}'s access to its encryption key",
                    opts=ctx.opts(),
                )
            )
            identity = storage.IdentityArgs(
                type=storage.IdentityType.USER_ASSIGNED, user_assigned_identities=[user.id]
            )
            encryption = storage.EncryptionArgs(
                key_source=storage.KeySource.MICROSOFT_KEYVAULT,
                # Versionless: the account follows the key's rotation.
                key_vault_properties=storage.KeyVaultPropertiesArgs(
                    key_vault_uri=cmk.vault_uri, key_name=cmk.key_name
                ),
                encryption_identity=storage.EncryptionIdentityArgs(
                    encryption_user_assigned_identity=user.id
                ),
                require_infrastructure_encryption=True,
                services=_encrypted_services(),
            )
            encryption_key = pulumi.Output.all(cmk.vault_uri, cmk.key_name).apply(
                lambda parts: f"{parts[0]}keys/{parts[1]}"
            )

        private = foundation.private_network
        ranges = foundation.deployer_ip_ranges if private else ()
        account_name = (
            pulumi.Output.from_input(options.account_name)
            if options.account_name
            else pulumi.Output.from_input(foundation.unique).apply(
                lambda u: compact("st", f"{ctx.name}{ctx.stack_name}", u, 24)
            )
        )
        container_name = spec.bucket_name or _DEFAULT_CONTAINER
        account = storage.StorageAccount(
            ctx.child_name(),
            resource_group_name=group,
            location=location,
            account_name=account_name,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=sku),
            access_tier=storage.AccessTier.HOT,
            allow_blob_public_access=False,
            allow_shared_key_access=options.shared_key_access,
            allow_cross_tenant_replication=False,
            default_to_o_auth_authentication=True,
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            is_hns_enabled=False,
            # Deployer ranges: "enabled from selected networks" (IP rules take effect only
            # with public network access on; everything else is denied).
            public_network_access=(
                storage.PublicNetworkAccess.DISABLED
                if private and not ranges
                else storage.PublicNetworkAccess.ENABLED
            ),
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                bypass=storage.Bypass.AZURE_SERVICES,
                ip_rules=[
                    storage.IPRuleArgs(i_p_address_or_range=rule, action=storage.Action.ALLOW)
                    for rule in storage_ip_rules(ranges)
                ]
                or None,
            )
            if private
            else None,
            identity=identity,
            encryption=encryption,
            tags=ctx.tags(),
            opts=pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(depends_on=depends_on)
            ),
        )
        service = storage.BlobServiceProperties(
            ctx.child_name("blob-service"),
            resource_group_name=group,
            account_name=account.name,
            blob_services_name="default",
            is_versioning_enabled=spec.versioning,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=options.soft_delete_days
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=options.soft_delete_days
            ),
            change_feed=storage.ChangeFeedArgs(
                enabled=True, retention_in_days=options.change_feed_retention_days
            ),
            opts=ctx.opts(),
        )
        # Blob reads, writes and deletes are logged on the blob service, not the account.
        send_audit_logs(
            ctx,
            "blob",
            foundation=foundation,
            resource_uri=pulumi.Output.concat(account.id, "/blobServices/default"),
        )
        locked = spec.object_lock_days is not None
        container = storage.BlobContainer(
            ctx.child_name("container"),
            resource_group_name=group,
            account_name=account.name,
            container_name=container_name,
            public_access=storage.PublicAccess.NONE,
            immutable_storage_with_versioning=storage.ImmutableStorageWithVersioningArgs(
                enabled=True
            )
            if locked
            else None,
            opts=pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(depends_on=[service])
            ),
        )
        if spec.object_lock_days is not None:
            # Unlocked time-based retention: the "governance" mode of the spec (an admin with
            # the right role can still shorten or remove it; a locked policy cannot be).
            storage.BlobContainerImmutabilityPolicy(
                ctx.child_name("immutability"),
                resource_group_name=group,
                account_name=account.name,
                container_name=container.name,
                immutability_policy_name="default",
                immutability_period_since_creation_in_days=spec.object_lock_days,
                allow_protected_append_writes_all=False,
                opts=ctx.opts(stateful=True),
            )
        rules = lifecycle_rules(spec, container_name)
        if rules:
            storage.ManagementPolicy(
                ctx.child_name("lifecycle"),
                resource_group_name=group,
                account_name=account.name,
                management_policy_name="default",
                policy=storage.ManagementPolicySchemaArgs(rules=rules),
                opts=ctx.opts(depends_on=[service]),
            )
        if private:
            from mlops_infra.backends.azure._private_link import private_endpoint  # noqa: PLC0415 - network SDK only when asked

            for sub_resource in ("blob", "file"):
                private_endpoint(
                    ctx,
                    sub_resource,
                    foundation=foundation,
                    target_id=account.id,
                    group_id=sub_resource,
                    zones=[f"privatelink.{sub_resource}.core.windows.net"],
                )
        # Built from the names we chose, after the container exists (its id is a dependency).
        uri = pulumi.Output.all(container.id, account_name).apply(
            lambda parts: f"https://{parts[1]}.blob.core.windows.net/{container_name}"
        )
        return StoreRef(uri=uri, encryption_key=encryption_key)

    def adopt(
        self, ctx: BuildContext[ArtifactStoreArgs], existing: ExistingArtifactStore
    ) -> StoreRef:
        """Uses an existing container; only Azure Blob (``https://``) or ADLS (``abfss://``)."""
        if not existing.uri.startswith(("https://", "abfss://")) or (
            ".blob." not in existing.uri and ".dfs." not in existing.uri
        ):
            msg = (
                f"{ctx.name}: the azure cloud can adopt Azure Blob stores only "
                f"(https://<account>.blob.core.windows.net/<container>); got {existing.uri!r}"
            )
            raise BackendError(msg)
        return super().adopt(ctx, existing)


def _encrypted_services() -> storage.EncryptionServicesArgs:
    """Blob and file encryption with account-scoped keys."""
    return storage.EncryptionServicesArgs(
        blob=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
        file=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
    )


def _customer_key(spec: ArtifactStoreSpec, foundation: AzureFoundationRef) -> _Cmk | None:
    """The key to encrypt with: the spec's, else the foundation's when Storage accepts it."""
    if spec.encryption_key is not None:
        match = _KEY_ID_RE.fullmatch(spec.encryption_key)
        if match is None:
            msg = (
                f"encryption_key {spec.encryption_key!r}: on Azure give the key's ARM id "
                "(/subscriptions/.../providers/Microsoft.KeyVault/vaults/<vault>/keys/<key>), "
                "so the store's identity can be granted access to that key"
            )
            raise BackendError(msg)
        return _Cmk(
            key_id=spec.encryption_key,
            vault_uri=f"https://{match['vault']}.vault.azure.net/",
            key_name=match["key"],
        )
    if foundation.key_usable_for_storage:
        return _Cmk(
            key_id=pulumi.Output.all(foundation.key_vault_id, foundation.key_name).apply(
                lambda parts: f"{parts[0]}/keys/{parts[1]}"
            ),
            vault_uri=foundation.key_vault_uri,
            key_name=foundation.key_name,
        )
    return None


def _rule_name(name: str) -> str:
    """Lifecycle rule names are alphanumeric on Azure."""
    return re.sub(r"[^A-Za-z0-9]", "", name) or "rule"


def lifecycle_rules(
    spec: ArtifactStoreSpec, container: str
) -> list[storage.ManagementPolicyRuleArgs]:
    """Translates the spec's expiry rules into management policy rules for ``container``.

    Prefixes are matched from the container (Azure's ``prefixMatch`` starts with the
    container name). Superseded versions expire after ``noncurrent_version_days``.

    Raises:
        BackendError: two rule names differ only in characters Azure does not allow.
    """
    rules: list[storage.ManagementPolicyRuleArgs] = []
    seen: dict[str, str] = {}
    for rule in spec.lifecycle:
        name = _rule_name(rule.name)
        if name in seen:
            msg = (
                f"lifecycle rules {seen[name]!r} and {rule.name!r} both become {name!r} on "
                "Azure (rule names are alphanumeric); rename one"
            )
            raise BackendError(msg)
        seen[name] = rule.name
        rules.append(
            storage.ManagementPolicyRuleArgs(
                name=name,
                type=storage.RuleType.LIFECYCLE,
                enabled=True,
                definition=storage.ManagementPolicyDefinitionArgs(
                    filters=storage.ManagementPolicyFilterArgs(
                        blob_types=["blockBlob"], prefix_match=[f"{container}/{rule.prefix}"]
                    ),
                    actions=storage.ManagementPolicyActionArgs(
                        base_blob=storage.ManagementPolicyBaseBlobArgs(
                            delete=storage.DateAfterModificationArgs(
                                days_after_creation_greater_than=rule.expire_after_days
                            )
                        )
                        if rule.expire_after_days is not None
                        else None,
                        version=storage.ManagementPolicyVersionArgs(
                            delete=storage.DateAfterCreationArgs(
                                days_after_creation_greater_than=rule.noncurrent_after_days
                            )
                        )
                        if rule.noncurrent_after_days is not None
                        else None,
                    ),
                ),
            )
        )
    if spec.versioning and spec.noncurrent_version_days is not None:
        rules.append(
            storage.ManagementPolicyRuleArgs(
                name="noncurrentversions",
                type=storage.RuleType.LIFECYCLE,
                enabled=True,
                definition=storage.ManagementPolicyDefinitionArgs(
                    filters=storage.ManagementPolicyFilterArgs(
                        blob_types=["blockBlob"], prefix_match=[f"{container}/"]
                    ),
                    actions=storage.ManagementPolicyActionArgs(
                        version=storage.ManagementPolicyVersionArgs(
                            delete=storage.DateAfterCreationArgs(
                                days_after_creation_greater_than=spec.noncurrent_version_days
                            )
                        )
                    ),
                ),
            )
        )
    return rules
