"""Provider credentials (BYOK): checked with the provider before they are stored, sealed in the vault,
shown by hint only.

Who may do what: a member sees their own credentials and the shared ones, and changes only their own;
an admin sees and changes all, and may share one (members then use it without ever seeing its key).
A credential that is not the caller's to see answers 404, exactly as if it did not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from byway.accounts import connection as conn
from byway.accounts.checks import Outcome
from byway.accounts.errors import Conflict, Unprocessable, missing
from byway.accounts.inputs import CredentialChange, CredentialInput, ValidationInput
from byway.accounts.provider import VALIDATION_TIMEOUT, connection
from byway.accounts.users import money
from byway.core import PermissionDeniedError
from byway.providers.catalog import ProviderSpec, spec_for
from byway.providers.config import ProviderConfig
from byway.store import (
    ADMIN,
    Actor,
    Credential,
    CredentialPatch,
    CredentialsRepo,
    DuplicateError,
    ForbiddenError,
    MissingError,
    NewCredential,
    StoredCredential,
)
from byway.store.scope import is_admin
from byway.vault import Secret

if TYPE_CHECKING:
    from byway.accounts.accounts import Accounts

# settings that are not connection fields, copied from a change to the store's patch as given
_SETTINGS = ("name", "model", "models", "is_default", "is_active", "shared", "temperature", "top_p", "max_tokens",
             "rate_limit_rpm", "rate_limit_tpm", "priority")
_MONEY = ("monthly_budget", "cost_per_1k_input", "cost_per_1k_output")


class CredentialOps:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    @property
    def _repo(self) -> CredentialsRepo:
        return self.accounts.store.credentials

    # --- reading --------------------------------------------------------------------------------------

    async def list(self, actor: Actor) -> list[Credential]:
        return await self._repo.list(actor)

    async def get(self, actor: Actor, credential_id: str) -> Credential:
        found = await self._repo.get(actor, credential_id)
        if found is None:
            raise missing("credential", credential_id)
        return found

    # --- changing -------------------------------------------------------------------------------------

    async def create(self, actor: Actor, new: CredentialInput) -> Credential:
        owner = new.user_id
        if owner is not None and not is_admin(actor) and owner != actor.user_id:
            raise missing("user", owner)
        if owner is None:
            owner = actor.user_id  # None for the master key: the gateway's own
        if new.shared and not is_admin(actor):
            raise PermissionDeniedError("only an admin may share a credential", param="shared")
        spec = spec_for(new.provider_type)
        connected = conn.build(spec, conn.given(new))
        await self._guard(connected)
        model = new.model or spec.default_model or (new.models[0] if new.models else None)
        if model is None:
            raise Unprocessable(f"model is required for provider type {spec.type.value}", param="model")
        prices = _prices(new.cost_per_1k_input, new.cost_per_1k_output)
        name = new.name or spec.type.value
        vault = self.accounts.sealing()
        if new.validate:
            await self._require_valid(spec, name, connected)
        record = NewCredential(
            provider_type=spec.type.value, name=name, user_id=owner, shared=new.shared,
            base_url=connected.base_url, model=model, models=new.models, is_active=new.is_active,
            is_default=new.is_default, is_valid=True if new.validate else None, temperature=new.temperature,
            top_p=new.top_p, max_tokens=new.max_tokens, rate_limit_rpm=new.rate_limit_rpm,
            rate_limit_tpm=new.rate_limit_tpm, monthly_budget=money(new.monthly_budget), priority=new.priority,
            cost_per_1k_input=prices[0], cost_per_1k_output=prices[1], extra=connected.extra or None)
        try:
            credential = await vault.add(record, Secret(connected.secret))
        except DuplicateError:
            raise Conflict(f"a credential named {name!r} exists: choose another name", param="name",
                           code="name_taken") from None
        except MissingError:
            raise missing("user", owner or "") from None
        await self.accounts.changed(actor, "credential.create", "credential", credential.id,
                                    {"name": name, "provider_type": spec.type.value, "user_id": owner,
                                     "shared": new.shared, "validated": new.validate})
        return credential

    async def update(self, actor: Actor, credential_id: str, change: CredentialChange) -> Credential:
        stored = await self._owned(actor, credential_id, "change")
        current = stored.credential
        spec = spec_for(current.provider_type)
        values = conn.given(change)
        patch: dict[str, Any] = {f: getattr(change, f) for f in _SETTINGS if getattr(change, f) is not msgspec.UNSET}
        for field in _MONEY:
            value = getattr(change, field)
            if value is not msgspec.UNSET:
                patch[field] = money(value, field)
        _prices(patch.get("cost_per_1k_input", current.cost_per_1k_input),
                patch.get("cost_per_1k_output", current.cost_per_1k_output))
        new_secret: Secret | None = None
        if values:
            before = conn.Connection(secret=dict(self.accounts.keyring().open_stored(stored)),
                                     extra=dict(current.extra or {}), base_url=current.base_url)
            after = conn.build(spec, values, base=before)
            if after.base_url != before.base_url or conn.token_uri(after) != conn.token_uri(before):
                await self._guard(after)
            if after != before:
                vault = self.accounts.sealing()
                if change.validate:
                    await self._require_valid(spec, patch.get("name", current.name), after)
                patch["is_valid"] = True if change.validate else None
                patch["base_url"] = after.base_url
                patch["extra"] = after.extra or None
                if after.secret != before.secret:
                    new_secret = Secret(after.secret)
                    if await vault.replace(actor, credential_id, new_secret) is None:
                        raise missing("credential", credential_id)
        try:
            updated = await self._repo.update(actor, credential_id, CredentialPatch(**patch))
        except ForbiddenError as e:
            raise PermissionDeniedError(str(e), param="shared") from None
        except DuplicateError:
            raise Conflict(f"a credential named {patch.get('name')!r} exists: choose another name", param="name",
                           code="name_taken") from None
        if updated is None:
            raise missing("credential", credential_id)
        fields = sorted(set(patch) | set(values) - {"is_valid"})
        await self.accounts.changed(actor, "credential.update", "credential", credential_id, {"fields": fields})
        return updated

    async def delete(self, actor: Actor, credential_id: str) -> None:
        if not await self._repo.delete(actor, credential_id):
            await self._refuse(actor, credential_id, "delete")
        await self.accounts.changed(actor, "credential.delete", "credential", credential_id)

    # --- asking the provider --------------------------------------------------------------------------

    async def test(self, actor: Actor, credential_id: str) -> Outcome:
        """Whether the stored key works now; the answer is kept as the credential's ``is_valid``."""
        credential, provider = await self._usable(actor, credential_id)
        outcome = await self.accounts.checker.check(provider)
        if credential.is_valid is not outcome.ok:
            await self._repo.update(ADMIN, credential_id, CredentialPatch(is_valid=outcome.ok))
            await self.accounts.changed(actor, "credential.test", "credential", credential_id, {"ok": outcome.ok})
        return outcome

    async def models(self, actor: Actor, credential_id: str) -> list[str]:
        """The provider's live model list, asked with the credential."""
        _, provider = await self._usable(actor, credential_id)
        return await self.accounts.checker.models(provider)

    async def validate(self, actor: Actor, document: ValidationInput) -> Outcome:
        """Check a key with the provider without storing anything."""
        spec = spec_for(document.provider_type)
        connected = conn.build(spec, conn.given(document))
        await self._guard(connected)
        return await self.accounts.checker.check(_checkable(spec, spec.type.value, connected))

    # --- helpers --------------------------------------------------------------------------------------

    async def _guard(self, connected: conn.Connection) -> None:
        if connected.base_url is not None:
            await self.accounts.guard.check(connected.base_url, "base_url")
        uri = conn.token_uri(connected)
        if uri is not None:
            await self.accounts.guard.check(uri, "credentials_json.token_uri")

    async def _require_valid(self, spec: ProviderSpec, name: str, connected: conn.Connection) -> None:
        outcome = await self.accounts.checker.check(_checkable(spec, name, connected))
        if outcome.ok:
            return
        if outcome.refused:
            raise Unprocessable(f"the provider refused the key: {outcome.error}", param=_key_param(spec),
                                code="invalid_provider_key")
        raise Unprocessable(f"the key could not be checked with the provider: {outcome.error} "
                            "(send validate: false to store it unchecked)", param=_key_param(spec),
                            code="provider_check_failed")

    async def _owned(self, actor: Actor, credential_id: str, what: str) -> StoredCredential:
        stored = await self._repo.sealed(actor, credential_id)
        if stored is None:
            await self._refuse(actor, credential_id, what)
        assert stored is not None
        return stored

    async def _refuse(self, actor: Actor, credential_id: str, what: str) -> None:
        """403 for a shared credential the caller may see but not change; 404 for one they may not see."""
        if await self._repo.get(actor, credential_id) is not None:
            raise PermissionDeniedError(f"only its owner or an admin may {what} this shared credential")
        raise missing("credential", credential_id)

    async def _usable(self, actor: Actor, credential_id: str) -> tuple[Credential, ProviderConfig]:
        """A credential the caller may use (own, shared, or any for an admin), with its connection."""
        credential = await self.get(actor, credential_id)
        stored = await self._repo.sealed(ADMIN, credential_id)
        if stored is None:
            raise missing("credential", credential_id)
        secret = self.accounts.keyring().open_stored(stored)
        c = stored.credential
        provider = connection(c.provider_type, c.name, secret, base_url=c.base_url, extra=c.extra,
                              timeout=VALIDATION_TIMEOUT)
        return credential, provider


def _checkable(spec: ProviderSpec, name: str, connected: conn.Connection) -> ProviderConfig:
    return connection(spec.type.value, name, connected.secret, base_url=connected.base_url, extra=connected.extra,
                      timeout=VALIDATION_TIMEOUT)


def _key_param(spec: ProviderSpec) -> str:
    return "aws_access_key_id" if spec.type.value == "bedrock" else \
        "credentials_json" if spec.type.value == "vertex" else "api_key"


def _prices(per_1k_input: Any, per_1k_output: Any) -> tuple[Any, Any]:
    if (per_1k_input is None) != (per_1k_output is None):
        raise Unprocessable("give both cost_per_1k_input and cost_per_1k_output, or neither",
                            param="cost_per_1k_output" if per_1k_output is None else "cost_per_1k_input")
    return money(per_1k_input, "cost_per_1k_input"), money(per_1k_output, "cost_per_1k_output")
