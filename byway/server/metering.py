"""Metering in the server: each request's usage record (what the ledger keeps for every request that
reached a provider), made durable before the last byte of the answer leaves; and setting up, starting and
stopping the ledger, its statistics and the budget alerts with the server."""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from byway.accounting.ledger import Ledger, Spawn, Writer, claim_journal, orphaned_journals, release
from byway.accounting.stats import ProviderStats
from byway.core import ByWayError, Usage
from byway.core.periods import month_range
from byway.core.usage_record import AttemptRecord, UsageRecord
from byway.routing.dispatch import Attempt
from byway.server.alerts import AlertDesk
from byway.server.context import Gateway, RequestContext
from byway.server.ledger_writer import WriterProcess

_CREDENTIAL = "credential:"
_NOTHING = Usage()
_ZERO = Decimal(0)
LEDGER_INTERVAL = 0.2  # seconds between the ledger's rounds: listeners fed, journal stored


def meter(gateway: Gateway, ctx: RequestContext, *, provider: str, connection: str, model: str, usage: Usage,
          cost: Decimal | None, estimated: bool, attempts: Sequence[Attempt], upstream_seconds: float,
          ttft: float | None = None, status: int = 200, error: str | None = None) -> None:
    """Record the request in ``ctx`` (when the gateway keeps a ledger). ``ttft``: when its first byte went
    out (``perf_counter``), for a stream."""
    ledger = gateway.ledger
    if ledger is None:
        return
    now = time.perf_counter()
    latency = (now - ctx.started) * 1000
    principal = ctx.principal
    user_id = key_id = None
    if principal is not None:
        user_id = principal.user_id
        key_id = principal.id if principal.kind == "key" else None
    ledger.record(UsageRecord(
        request_id=ctx.request_id, created_at=ctx.at, user_id=user_id, key_id=key_id,
        credential=connection[len(_CREDENTIAL):] if connection.startswith(_CREDENTIAL) else None,
        provider=provider, model=model, endpoint=ctx.endpoint, stream=ctx.stream,
        tokens_in=usage.input_tokens, tokens_out=usage.output_tokens, cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens, reasoning_tokens=usage.reasoning_tokens, cost=cost,
        estimated=estimated, latency_ms=latency,
        ttft_ms=(ttft - ctx.started) * 1000 if ttft is not None else None, status_code=status,
        success=error is None, error=error,
        attempts=tuple(AttemptRecord(a.provider, a.model, a.status, a.latency_ms) for a in attempts),
        overhead_ms=max(latency - upstream_seconds * 1000, 0.0)))


def meter_failure(gateway: Gateway, ctx: RequestContext, error: ByWayError, status: int) -> None:
    """Record a request that failed after reaching a provider (the error lists its attempts)."""
    attempts: list[Attempt] | None = getattr(error, "attempts", None)
    if not attempts or not ctx.endpoint:
        return  # refused before any provider saw it: nothing was spent
    last = attempts[-1]
    meter(gateway, ctx, provider=last.provider, connection=last.connection, model=last.model, usage=_NOTHING,
          cost=_ZERO, estimated=False, attempts=attempts,
          upstream_seconds=sum(a.latency_ms for a in attempts) / 1000, status=status, error=error.message)


def install_metering(gateway: Gateway, journal_dir: Path, *, alert_webhook_url: str | None = None,
                     writer_database_url: str | None = None) -> None:
    """Give a gateway with a database its ledger (a journal directory of its own under ``journal_dir``),
    the statistics fed from it, and the alert desk its budgets report to. Started with the server. With
    ``writer_database_url`` the ledger's journal is stored by a writer process of its own (``byway serve``);
    without, on the gateway's own event loop (an app run in-process)."""
    accounts = gateway.accounts
    if accounts is None:
        return
    store = accounts.store
    spawn: Spawn | None = None
    if writer_database_url is not None:
        url = writer_database_url

        async def spawn(directory: Path) -> Writer:
            return await WriterProcess.start(directory, url, LEDGER_INTERVAL)

    gateway.ledger = Ledger(claim_journal(journal_dir), store.usage.insert, interval=LEDGER_INTERVAL, spawn=spawn)
    gateway.stats = ProviderStats()
    gateway.ledger.listeners.append(gateway.stats.add)
    gateway.alerts = AlertDesk(store, alert_webhook_url)
    gateway.engine.gate.budgets.on_alert = gateway.alerts.raise_alert
    gateway.journal_dir = journal_dir


async def start_metering(gateway: Gateway) -> None:
    """Store what earlier processes journaled but never stored (this worker's journal and any left by a
    process that is gone), then load this month's spend and alerts into the budgets."""
    ledger = gateway.ledger
    if ledger is None or gateway.accounts is None:
        return
    store = gateway.accounts.store
    for journal, lock in orphaned_journals(gateway.journal_dir):
        try:
            await ledger.replay(journal)
        finally:
            journal.close()
            release(lock)
    await ledger.start()
    budgets = gateway.engine.gate.budgets
    period = budgets.period
    budgets.load(await store.usage.spent(month_range(period)[0]), await store.alerts.scopes_alerted(period), period)
    if gateway.alerts is not None:
        await gateway.alerts.start()


async def stop_metering(gateway: Gateway) -> None:
    if gateway.ledger is not None:
        await gateway.ledger.close()
    if gateway.alerts is not None:
        await gateway.alerts.close()
