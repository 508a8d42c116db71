"""One usage record: what the ledger keeps for every client request that reached a provider
(CONTRACT §9's fields). Money is a decimal string, times are UTC."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class AttemptRecord(msgspec.Struct, frozen=True):
    provider: str
    model: str
    status: int  # the upstream status, 0 when no answer came
    latency_ms: float


class UsageRecord(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    created_at: float  # unix time, UTC
    user_id: str | None
    key_id: str | None
    credential: str | None  # the credential's id, when a user's credential served it
    provider: str
    model: str
    endpoint: str  # chat.completions | messages | embeddings
    stream: bool
    tokens_in: int  # the whole prompt, cached tokens included
    tokens_out: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost: Decimal | None = None  # USD; None when the price is unknown
    estimated: bool = False  # tokens estimated because the provider reported none
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    status_code: int = 200
    success: bool = True
    error: str | None = None
    attempts: tuple[AttemptRecord, ...] = ()
    overhead_ms: float = 0.0  # time spent in Byway itself (metrics only; not stored)

