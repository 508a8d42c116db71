"""What callers send to change accounts, as typed documents: the management API decodes request bodies
into these, the CLI builds them from its options. Unknown fields are refused, so a typo is an error."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from byway.providers.config import ProviderType

Role = Literal["admin", "member"]
# A credential's name is the prefix of ``name:model``: no colon, no whitespace.
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^:\s]+$")]
Label = Annotated[str, Meta(min_length=1, max_length=200)]
Email = Annotated[str, Meta(min_length=3, max_length=320)]
Password = Annotated[str, Meta(min_length=8, max_length=1024)]
Positive = Annotated[int, Meta(ge=1)]
Temperature = Annotated[float, Meta(ge=0, le=2)]
TopP = Annotated[float, Meta(ge=0, le=1)]
Percent = Annotated[int, Meta(ge=0, le=100)]
ModelName = Annotated[str, Meta(min_length=1, max_length=200)]
Url = Annotated[str, Meta(min_length=1, max_length=2048)]


class UserInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password | None = None
    role: Role = "member"
    monthly_budget: Decimal | None = None
    rpm_limit: Positive | None = None
    tpm_limit: Positive | None = None


class UserChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email | UnsetType = UNSET
    password: Password | UnsetType | None = UNSET
    role: Role | UnsetType = UNSET
    monthly_budget: Decimal | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    rpm_limit: Positive | UnsetType | None = UNSET
    tpm_limit: Positive | UnsetType | None = UNSET


class KeyInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Label
    user_id: str | None = None
    monthly_budget: Decimal | None = None
    rpm_limit: Positive | None = None
    tpm_limit: Positive | None = None
    allowed_models: list[ModelName] | None = None
    expires_at: datetime | None = None


class CredentialFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The connection fields of a credential: the secret ones and the type-specific ones."""

    api_key: str | UnsetType | None = UNSET
    base_url: Url | UnsetType | None = UNSET
    aws_access_key_id: str | UnsetType | None = UNSET
    aws_secret_access_key: str | UnsetType | None = UNSET
    aws_session_token: str | UnsetType | None = UNSET
    credentials_json: str | dict[str, Any] | UnsetType | None = UNSET
    region: str | UnsetType | None = UNSET
    project: str | UnsetType | None = UNSET
    location: str | UnsetType | None = UNSET
    api_version: str | UnsetType | None = UNSET
    api: Literal["native", "openai"] | UnsetType | None = UNSET


class CredentialInput(CredentialFields, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/credentials``. ``user_id`` (admins only) adds it for another user; ``shared`` (admins
    only) lets every member use it without seeing its key; ``validate: false`` skips the provider check."""

    provider_type: ProviderType
    name: Name | None = None
    model: ModelName | None = None
    models: list[ModelName] | None = None
    is_default: bool = False
    is_active: bool = True
    shared: bool = False
    user_id: str | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: Positive | None = None
    rate_limit_rpm: Positive | None = None
    rate_limit_tpm: Positive | None = None
    monthly_budget: Decimal | None = None
    priority: int = 100
    cost_per_1k_input: Decimal | None = None
    cost_per_1k_output: Decimal | None = None
    validate: bool = True


class CredentialChange(CredentialFields, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /api/credentials/{id}``: only the fields given change. A new key (or base URL) is checked
    with the provider again unless ``validate`` is false."""

    name: Name | UnsetType = UNSET
    model: ModelName | UnsetType | None = UNSET
    models: list[ModelName] | UnsetType | None = UNSET
    is_default: bool | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    shared: bool | UnsetType = UNSET
    temperature: Temperature | UnsetType | None = UNSET
    top_p: TopP | UnsetType | None = UNSET
    max_tokens: Positive | UnsetType | None = UNSET
    rate_limit_rpm: Positive | UnsetType | None = UNSET
    rate_limit_tpm: Positive | UnsetType | None = UNSET
    monthly_budget: Decimal | UnsetType | None = UNSET
    priority: int | UnsetType = UNSET
    cost_per_1k_input: Decimal | UnsetType | None = UNSET
    cost_per_1k_output: Decimal | UnsetType | None = UNSET
    validate: bool = True


class ValidationInput(CredentialFields, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/credentials/validate``: a key checked with the provider, nothing stored."""

    provider_type: ProviderType


class PreferencesInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    default_provider: Label | None = None
    fallback_provider: Label | None = None
    preferred_models: list[ModelName] | None = None
    auto_switch_provider: bool = False
    max_tokens_per_request: Positive | None = None
    quota_alert_percent: Percent = 80
    store_conversation_history: bool = False


def given(document: msgspec.Struct, name: str) -> bool:
    return getattr(document, name, UNSET) is not UNSET
