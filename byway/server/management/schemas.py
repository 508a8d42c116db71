"""The documents only the management API answers (lists, errors, the provider catalogue), beside the
account documents of ``byway.accounts.shapes``. Every answer is one of these types, so the OpenAPI
document is generated from the same definitions the handlers encode."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

from byway.accounting.stats import ProviderMetrics, Totals
from byway.accounts.fields import Field
from byway.accounts.shapes import CredentialOut, KeyOut, UserOut


class ErrorBody(msgspec.Struct, kw_only=True):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorOut(msgspec.Struct, kw_only=True):
    error: ErrorBody


class UserList(msgspec.Struct, kw_only=True):
    data: list[UserOut]


class KeyList(msgspec.Struct, kw_only=True):
    data: list[KeyOut]


class CredentialList(msgspec.Struct, kw_only=True):
    data: list[CredentialOut]


class ProviderTypeOut(msgspec.Struct, kw_only=True):
    type: str
    display_name: str
    family: str
    key_url: str | None
    default_base_url: str | None
    default_model: str | None
    suggested_models: list[str]
    key_required: bool
    fields: list[Field]


class ProviderTypeList(msgspec.Struct, kw_only=True):
    data: list[ProviderTypeOut]


class ModelOut(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["model"] = "model"
    owned_by: str


class ModelList(msgspec.Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class MeOut(msgspec.Struct, kw_only=True):
    kind: Literal["master", "key", "session"]
    role: Literal["admin", "member"]
    user_id: str | None
    key_id: str | None
    email: str | None


# --- provider monitoring (admins) ---------------------------------------------------------------------


class ProviderStatusOut(msgspec.Struct, kw_only=True):
    provider: str  # the connection key: a config provider's name, or credential:ID
    name: str
    source: Literal["config", "credential"]
    type: str | None  # None: a credential that no longer exists
    user_id: str | None  # a credential's owner (None: the gateway's own)
    enabled: bool
    models: list[str] | None
    status: Literal["healthy", "degraded", "down", "unknown"]
    reason: str
    circuit: str
    requests: int | None  # since start or the last metrics reset (None: the gateway keeps no statistics)
    errors: int | None
    error_rate: float | None


class ProviderStatusList(msgspec.Struct, kw_only=True):
    data: list[ProviderStatusOut]


class ProviderMetricsList(msgspec.Struct, kw_only=True):
    since: datetime  # start, or the last reset (UTC)
    data: list[ProviderMetrics]
    totals: Totals


class ModelCostOut(msgspec.Struct, kw_only=True):
    model: str
    requests: int
    unpriced_requests: int  # recorded with cost unknown, so not in cost
    cost: Decimal
    tokens_in: int
    tokens_out: int


class ProviderCostOut(msgspec.Struct, kw_only=True):
    provider: str
    name: str
    requests: int
    unpriced_requests: int
    cost: Decimal
    tokens_in: int
    tokens_out: int
    models: list[ModelCostOut]


class SinceStartCosts(msgspec.Struct, kw_only=True):
    since: datetime
    total_cost: Decimal
    requests: int
    unpriced_requests: int
    by_provider: list[ProviderCostOut]


class ProviderCostsOut(msgspec.Struct, kw_only=True):
    period: str  # YYYY-MM (UTC)
    total_cost: Decimal
    requests: int
    unpriced_requests: int
    by_provider: list[ProviderCostOut]
    since_start: SinceStartCosts | None  # from the in-memory statistics (None: the gateway keeps none)


# --- usage, request logs and budget alerts --------------------------------------------------------------


class ProviderUsageOut(msgspec.Struct, kw_only=True):
    provider: str  # the name the records carry: a config provider's, or a credential's
    spent: Decimal  # known costs only
    budget: Decimal | None  # the monthly budget of that provider as it applies to the caller (None: none)
    requests: int
    tokens_in: int
    tokens_out: int
    avg_latency_ms: float
    errors: int
    error_rate: float  # errors / requests
    unpriced_requests: int  # recorded with cost unknown, so not in spent


class UsageSummaryOut(msgspec.Struct, kw_only=True):
    period: str  # YYYY-MM (UTC)
    total_spent: Decimal
    total_budget: Decimal | None
    remaining: Decimal | None  # total_budget - total_spent
    utilization: Decimal | None  # total_spent / total_budget, 4 places
    requests: int
    tokens_in: int
    tokens_out: int
    errors: int
    unpriced_requests: int
    by_provider: list[ProviderUsageOut]


class UsageGroupOut(msgspec.Struct, kw_only=True):
    group: str | None  # a UTC date (YYYY-MM-DD), provider, model, key id or user id (None: no key or user)
    requests: int
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    reasoning_tokens: int
    cost: Decimal  # known costs only
    errors: int
    unpriced_requests: int


class UsageGroupList(msgspec.Struct, kw_only=True):
    group_by: Literal["day", "provider", "model", "key", "user"]
    start: str = msgspec.field(name="from")  # YYYY-MM-DD, the first day counted (UTC)
    end: str = msgspec.field(name="to")  # YYYY-MM-DD, the last day counted
    data: list[UsageGroupOut]


class AttemptOut(msgspec.Struct, kw_only=True):
    provider: str
    model: str
    status: int  # the upstream status, 0 when no answer came
    latency_ms: float


class UsageLogOut(msgspec.Struct, kw_only=True):
    request_id: str
    created_at: datetime
    user_id: str | None
    key_id: str | None
    credential: str | None
    provider: str
    model: str
    endpoint: str
    stream: bool
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: Decimal | None  # None: the price is unknown
    estimated: bool
    latency_ms: float
    ttft_ms: float | None
    status_code: int
    success: bool
    error: str | None
    attempts: list[AttemptOut]


class UsageLogList(msgspec.Struct, kw_only=True):
    data: list[UsageLogOut]


class AlertOut(msgspec.Struct, kw_only=True):
    id: str
    scope: str  # user:ID, key:ID, credential:ID or provider:NAME
    period: str
    user_id: str | None
    percent: int
    spent: Decimal
    budget: Decimal
    created_at: datetime
    delivered_at: datetime | None


class AlertList(msgspec.Struct, kw_only=True):
    data: list[AlertOut]
