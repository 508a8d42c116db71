"""Provider monitoring (admins).

- ``GET /api/providers/health``: every provider connection's verdict (healthy, degraded, down or unknown,
  with the reason), latency p50/p95, error rate and circuit state, from live traffic and the active checks;
  ``?check=true`` checks every configured provider first.
- ``GET /api/providers/status``: each configured provider and each other connection seen (users'
  credentials): what it is, whether it is on, its health verdict and circuit, and its requests and error
  rate from the statistics.
- ``GET /api/providers/metrics`` and ``/api/providers/metrics/{provider}``: the in-memory statistics since
  start or the last reset (``POST /api/providers/metrics/reset``), with totals.
- ``GET /api/providers/costs?period=YYYY-MM``: the month's cost per provider and model from the database,
  and the statistics' figures since start.

Providers are named by connection key: a config provider by its name, a stored credential as
``credential:ID``. Every read first waits for the ledger to store what was recorded so far, so a caller sees
its own finished requests. Money is a decimal string in fixed notation.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import msgspec

from byway.accounting.stats import ProviderMetrics, ProviderStats, idle
from byway.accounts.errors import Unprocessable
from byway.core import ByWayError, NotFoundError
from byway.core.periods import current_period
from byway.core.periods import month_range as month_bounds
from byway.routing.health import Health
from byway.server.management.http import Call, Reply
from byway.server.management.schemas import (
    ModelCostOut,
    ProviderCostOut,
    ProviderCostsOut,
    ProviderMetricsList,
    ProviderStatusList,
    ProviderStatusOut,
    SinceStartCosts,
)
from byway.store.costs import ModelCost, month_costs

CREDENTIAL = "credential:"


class HealthList(msgspec.Struct, kw_only=True):
    data: list[Health]


async def provider_health(call: Call) -> Reply:
    engine = call.gateway.engine
    if call.query.get("check", "").lower() in ("1", "true", "yes"):
        await asyncio.gather(*(engine.check(p) for p in engine.router.providers.values() if p.enabled))
    return Reply(200, HealthList(data=engine.health_report()))


async def provider_status(call: Call) -> Reply:
    await _settled(call)
    engine = call.gateway.engine
    health = {h.connection: h for h in engine.health_report()}
    stats = call.gateway.stats
    counted = {m.provider: m for m in stats.providers()} if stats is not None else {}
    names = {key: h.provider for key, h in health.items()} | {k: m.name for k, m in counted.items() if k not in health}
    rows = []
    for key, name in names.items():
        verdict = health.get(key) or engine.health_of(key, name)
        seen = counted.get(key)
        if stats is None:
            requests = errors = None
            rate: float | None = None
        else:
            requests, errors = (seen.requests, seen.errors) if seen else (0, 0)
            rate = seen.error_rate if seen else 0.0
        rows.append(_describe(call, key, name, verdict, requests, errors, rate))
    return Reply(200, ProviderStatusList(data=rows))


async def provider_metrics(call: Call) -> Reply:
    await _settled(call)
    stats = _stats(call)
    counted = {m.provider: m for m in stats.providers()}
    configured = {p.connection_id: p.name for p in call.gateway.engine.router.providers.values()}
    data = [counted.get(key) or idle(key, name) for key, name in configured.items()]
    data += [m for key, m in counted.items() if key not in configured]
    return Reply(200, ProviderMetricsList(since=stats.since, data=data, totals=stats.totals()))


async def one_provider_metrics(call: Call) -> Reply:
    await _settled(call)
    stats = _stats(call)
    key = call.params["provider"]
    found: ProviderMetrics | None = stats.provider(key)
    if found is None:
        name = _known(call).get(key)
        if name is None:
            raise NotFoundError(f"no provider {key}", code="provider_not_found")
        found = idle(key, name)
    return Reply(200, found)


async def reset_metrics(call: Call) -> Reply:
    await _settled(call)  # what was recorded before the reset is counted before it, not after
    _stats(call).reset()
    return Reply(204)


async def provider_costs(call: Call) -> Reply:
    period = call.query.get("period") or current_period()
    try:
        month_bounds(period)
    except ValueError:
        raise Unprocessable(f"period: not a month (YYYY-MM): {period!r}", param="period") from None
    await _settled(call)
    rows = await month_costs(call.accounts.store.engine, period)
    by_provider = _by_provider(rows)
    since_start = None
    stats = call.gateway.stats
    if stats is not None:
        counted = stats.providers()
        since_start = SinceStartCosts(
            since=stats.since, total_cost=sum((m.cost for m in counted), Decimal(0)),
            requests=sum(m.requests for m in counted), unpriced_requests=sum(m.unpriced_requests for m in counted),
            by_provider=[_provider_cost(m) for m in counted])
    answer = ProviderCostsOut(period=period, total_cost=sum((p.cost for p in by_provider), Decimal(0)),
                              requests=sum(p.requests for p in by_provider),
                              unpriced_requests=sum(p.unpriced_requests for p in by_provider),
                              by_provider=by_provider, since_start=since_start)
    return Reply(200, answer)


# --- helpers -----------------------------------------------------------------------------------------


async def _settled(call: Call) -> None:
    """Wait until everything recorded so far is stored and counted."""
    ledger = call.gateway.ledger
    if ledger is not None:
        await ledger.flush()


def _stats(call: Call) -> ProviderStats:
    stats = call.gateway.stats
    if stats is None:
        raise ByWayError("this gateway keeps no provider statistics (it runs without metering)", status=503,
                         code="metering_off")
    return stats


def _known(call: Call) -> dict[str, str]:
    """Every provider connection the gateway knows: key -> name."""
    engine = call.gateway.engine
    known = {p.connection_id: p.name for p in engine.router.providers.values()}
    for credential_id, loaded in call.accounts.directory.credentials.items():
        known.setdefault(CREDENTIAL + credential_id, loaded.credential.name)
    for connection, name in engine.health.connections().items():
        known.setdefault(connection, name)
    return known


def _describe(call: Call, key: str, name: str, verdict: Health, requests: int | None, errors: int | None,
              rate: float | None) -> ProviderStatusOut:
    common: dict[str, Any] = {"provider": key, "name": name, "status": verdict.status, "reason": verdict.reason,
                              "circuit": verdict.circuit, "requests": requests, "errors": errors, "error_rate": rate}
    configured = call.gateway.engine.router.providers.get(name)
    if configured is not None and configured.connection_id == key:
        return ProviderStatusOut(source="config", type=configured.provider_type.value, user_id=None,
                                 enabled=configured.enabled, models=configured.models, **common)
    loaded = call.accounts.directory.credentials.get(key.removeprefix(CREDENTIAL))
    if loaded is None or not key.startswith(CREDENTIAL):  # deleted since, or gone from the config
        source = "credential" if key.startswith(CREDENTIAL) else "config"
        return ProviderStatusOut(source=source, type=None, user_id=None, enabled=False, models=None, **common)
    c = loaded.credential
    models = c.models if c.models else ([c.model] if c.model else None)
    return ProviderStatusOut(source="credential", type=c.provider_type, user_id=c.user_id,
                             enabled=c.is_active and loaded.provider is not None, models=models, **common)


def _by_provider(rows: list[ModelCost]) -> list[ProviderCostOut]:
    grouped: dict[str, list[ModelCost]] = {}
    for row in rows:
        grouped.setdefault(row.provider, []).append(row)
    return [ProviderCostOut(provider=key, name=lines[0].name, requests=sum(r.requests for r in lines),
                            unpriced_requests=sum(r.unpriced_requests for r in lines),
                            cost=sum((r.cost for r in lines), Decimal(0)), tokens_in=sum(r.tokens_in for r in lines),
                            tokens_out=sum(r.tokens_out for r in lines),
                            models=[ModelCostOut(model=r.model, requests=r.requests,
                                                 unpriced_requests=r.unpriced_requests, cost=r.cost,
                                                 tokens_in=r.tokens_in, tokens_out=r.tokens_out) for r in lines])
            for key, lines in grouped.items()]


def _provider_cost(m: ProviderMetrics) -> ProviderCostOut:
    return ProviderCostOut(provider=m.provider, name=m.name, requests=m.requests,
                           unpriced_requests=m.unpriced_requests, cost=m.cost, tokens_in=m.tokens_in,
                           tokens_out=m.tokens_out,
                           models=[ModelCostOut(model=x.model, requests=x.requests,
                                                unpriced_requests=x.unpriced_requests, cost=x.cost,
                                                tokens_in=x.tokens_in, tokens_out=x.tokens_out) for x in m.models])

