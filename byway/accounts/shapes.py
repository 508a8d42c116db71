"""What callers are shown of accounts: the documents the management API answers and the CLI prints.

A credential is shown with its ``key_hint`` only (and that only to its owner or an admin), never its
secret; a gateway key's plaintext appears once, in the answer that created it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from byway.store import Credential, GatewayKey, Preferences, User
from byway.store.scope import Actor, is_admin


def plain(amount: Decimal | None) -> Decimal | None:
    """A money amount without the store's trailing zeros (``5.0000000000`` -> ``5``)."""
    if amount is None:
        return None
    return Decimal(format(amount.normalize(), "f"))


class UserOut(msgspec.Struct, kw_only=True):
    id: str
    email: str
    role: Literal["admin", "member"]
    monthly_budget: Decimal | None
    rpm_limit: int | None
    tpm_limit: int | None
    is_active: bool
    created_at: datetime


class KeyOut(msgspec.Struct, kw_only=True):
    id: str
    user_id: str
    name: str
    hint: str
    status: Literal["active", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    allowed_models: list[str] | None
    monthly_budget: Decimal | None
    rpm_limit: int | None
    tpm_limit: int | None


class NewKeyOut(KeyOut, kw_only=True):
    key: str  # the plaintext, shown only in this answer


class CredentialOut(msgspec.Struct, kw_only=True):
    id: str
    provider_type: str
    name: str
    key_hint: str | None  # None for a shared credential shown to a member who does not own it
    user_id: str | None
    shared: bool
    base_url: str | None
    model: str | None
    models: list[str] | None
    is_valid: bool | None
    is_active: bool
    is_default: bool
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    rate_limit_rpm: int | None
    rate_limit_tpm: int | None
    monthly_budget: Decimal | None
    monthly_spent: Decimal
    priority: int
    cost_per_1k_input: Decimal | None
    cost_per_1k_output: Decimal | None
    region: str | None = None
    project: str | None = None
    location: str | None = None
    api_version: str | None = None
    api: str | None = None
    created_at: datetime
    updated_at: datetime


class CheckOut(msgspec.Struct, kw_only=True):
    ok: bool
    latency_ms: float
    error: str | None = None


class ValidationOut(msgspec.Struct, kw_only=True):
    valid: bool
    error: str | None = None


class PreferencesOut(msgspec.Struct, kw_only=True):
    default_provider: str | None
    fallback_provider: str | None
    preferred_models: list[str] | None
    auto_switch_provider: bool
    max_tokens_per_request: int | None
    quota_alert_percent: int
    store_conversation_history: bool


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, role=user.role, monthly_budget=plain(user.monthly_budget),
                   rpm_limit=user.rpm_limit, tpm_limit=user.tpm_limit, is_active=user.is_active,
                   created_at=user.created_at)


def key_out(key: GatewayKey, now: datetime) -> KeyOut:
    problem = key.problem(now)
    return KeyOut(id=key.id, user_id=key.user_id, name=key.name, hint=key.hint, status=problem or "active",
                  created_at=key.created_at, expires_at=key.expires_at, revoked_at=key.revoked_at,
                  last_used_at=key.last_used_at, allowed_models=key.allowed_models,
                  monthly_budget=plain(key.monthly_budget), rpm_limit=key.rpm_limit, tpm_limit=key.tpm_limit)


def new_key_out(key: GatewayKey, plaintext: str, now: datetime) -> NewKeyOut:
    return NewKeyOut(key=plaintext, **msgspec.structs.asdict(key_out(key, now)))


def credential_out(c: Credential, actor: Actor, monthly_spent: Decimal = Decimal(0)) -> CredentialOut:
    extra = c.extra or {}
    owner = is_admin(actor) or (c.user_id is not None and c.user_id == actor.user_id)
    return CredentialOut(
        id=c.id, provider_type=c.provider_type, name=c.name, key_hint=c.key_hint if owner else None,
        user_id=c.user_id, shared=c.shared, base_url=c.base_url, model=c.model, models=c.models,
        is_valid=c.is_valid, is_active=c.is_active, is_default=c.is_default, temperature=c.temperature,
        top_p=c.top_p, max_tokens=c.max_tokens, rate_limit_rpm=c.rate_limit_rpm, rate_limit_tpm=c.rate_limit_tpm,
        monthly_budget=plain(c.monthly_budget), monthly_spent=plain(monthly_spent) or Decimal(0),
        priority=c.priority, cost_per_1k_input=plain(c.cost_per_1k_input),
        cost_per_1k_output=plain(c.cost_per_1k_output), region=extra.get("region"), project=extra.get("project"),
        location=extra.get("location"), api_version=extra.get("api_version"), api=extra.get("api"),
        created_at=c.created_at, updated_at=c.updated_at)


def preferences_out(prefs: Preferences) -> PreferencesOut:
    return PreferencesOut(**msgspec.structs.asdict(prefs))
