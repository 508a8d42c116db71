"""Usage and costs: ``/api/usage/summary``, ``/api/usage`` (grouped), ``/api/usage/export`` (CSV),
``/api/logs``, the admins' ``/api/providers/logs[/{provider}]``, and budget alerts at ``/api/alerts``.

A member sees only the records of requests made with their own keys; an admin (and the master key) sees
everyone's. Every handler first waits for the usage ledger to store what it holds, so a caller sees the
requests that just finished. Money is a decimal string; times are UTC.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

import msgspec

from byway.accounts.errors import Unprocessable
from byway.core.periods import current_period, month_range
from byway.core.usage_record import UsageRecord
from byway.server.management.http import Call, Reply, Streamed
from byway.server.management.schemas import (
    AlertList,
    AlertOut,
    AttemptOut,
    ProviderUsageOut,
    UsageGroupList,
    UsageGroupOut,
    UsageLogList,
    UsageLogOut,
    UsageSummaryOut,
)
from byway.store.scope import is_admin
from byway.store.usage_reports import (
    GROUPINGS,
    MAX_LOGS,
    GroupBy,
    LogFilter,
    StatusFilter,
    UsageReports,
)

DEFAULT_LIMIT = 100
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RATIO = Decimal("0.0001")
CSV_COLUMNS = ("request_id", "created_at", "user_id", "key_id", "credential", "provider", "model", "endpoint",
               "stream", "tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
               "cost", "estimated", "latency_ms", "ttft_ms", "status_code", "success", "error", "attempts")


async def _settled(call: Call) -> UsageReports:
    """Wait until the ledger has stored every record so far; the reports over the gateway's database."""
    if call.gateway.ledger is not None:
        await call.gateway.ledger.flush()
    return UsageReports(call.accounts.store.engine)


# --- query values -----------------------------------------------------------------------------------------


def _period(call: Call) -> str:
    period = call.query.get("period") or current_period()
    try:
        month_range(period)
    except ValueError:
        raise Unprocessable(f"period: not a month (YYYY-MM): {period!r}", param="period") from None
    return period


def _day(call: Call, name: str) -> date | None:
    text = call.query.get(name)
    if not text:
        return None
    try:
        if not _DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise Unprocessable(f"{name}: not a date (YYYY-MM-DD): {text!r}", param=name) from None


def _days(call: Call, *, default_this_month: bool) -> tuple[date | None, date | None]:
    """``from`` and ``to`` (both days counted); without them this UTC month, or everything."""
    first, last = _day(call, "from"), _day(call, "to")
    if default_this_month:
        start, end = month_range(current_period())
        first = first or start.date()
        last = last or (end - timedelta(days=1)).date()
    if first is not None and last is not None and first > last:
        raise Unprocessable("from: after to", param="from")
    return first, last


def _bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) if first else None
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) if last else None
    return start, end


def _count(call: Call, name: str, default: int, low: int, high: int | None = None) -> int:
    text = call.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise Unprocessable(f"{name}: not a whole number: {text!r}", param=name) from None
    if value < low or (high is not None and value > high):
        limits = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Unprocessable(f"{name}: must be {limits}", param=name)
    return value


def _status(call: Call) -> StatusFilter | None:
    text = call.query.get("status")
    if not text:
        return None
    if text in ("error", "success"):
        return cast(StatusFilter, text)
    if text.isdigit() and len(text) == 3:
        return int(text)
    raise Unprocessable(f"status: a status code, error or success, not {text!r}", param="status")


# --- summary -------------------------------------------------------------------------------------------------


def _provider_budget(call: Call, name: str) -> Decimal | None:
    """The monthly budget of the provider called ``name`` as it applies to the caller: the caller's own
    credential of that name (the gateway's own for the master key), else a shared credential of that name,
    else the config file's provider of that name."""
    owner = call.principal.user_id
    named = sorted((loaded.credential for loaded in call.accounts.directory.credentials.values()
                    if loaded.credential.name == name), key=lambda c: (c.priority, c.created_at, c.id))
    for credential in named:
        if credential.user_id == owner:
            return credential.monthly_budget
    for credential in named:
        if credential.shared:
            return credential.monthly_budget
    provider = call.gateway.engine.router.providers.get(name)
    return provider.monthly_budget if provider is not None else None


def _total_budget(call: Call) -> Decimal | None:
    users = call.accounts.directory.users
    if is_admin(call.principal):
        budgets = [u.monthly_budget for u in users.values() if u.monthly_budget is not None]
        return sum(budgets, Decimal(0)) if budgets else None
    user = users.get(call.principal.user_id or "")
    return user.monthly_budget if user is not None else None


def _utilization(spent: Decimal, budget: Decimal | None) -> Decimal | None:
    if budget is None or budget <= 0:
        return None
    return (spent / budget).quantize(_RATIO, rounding=ROUND_HALF_EVEN)


async def usage_summary(call: Call) -> Reply:
    """The month's spend (``?period=YYYY-MM``, default this UTC month) in all and per provider, against
    the budgets that apply.

    Budgets: for a member, ``total_budget`` is their user's monthly budget; for an admin it is the sum of
    every user's monthly budget, or null when no user has one. A provider's ``budget`` is that of the
    caller's own credential of that name, else a shared credential of that name, else the config file's
    provider of that name (null when none has one). ``remaining`` is budget minus spent and
    ``utilization`` spent over budget to 4 places; both null without a budget (utilization also for a
    budget of zero). Spent counts known costs only: ``unpriced_requests`` says how many had no price."""
    period = _period(call)
    summary = await (await _settled(call)).summary(call.principal, period)
    total_budget = _total_budget(call)
    providers = [ProviderUsageOut(provider=p.provider, spent=p.spent, budget=_provider_budget(call, p.provider),
                                  requests=p.requests, tokens_in=p.tokens_in, tokens_out=p.tokens_out,
                                  avg_latency_ms=round(p.avg_latency_ms, 3), errors=p.errors,
                                  error_rate=round(p.error_rate, 4), unpriced_requests=p.unpriced)
                 for p in summary.by_provider]
    return Reply(200, UsageSummaryOut(
        period=period, total_spent=summary.total_spent, total_budget=total_budget,
        remaining=total_budget - summary.total_spent if total_budget is not None else None,
        utilization=_utilization(summary.total_spent, total_budget), requests=summary.requests,
        tokens_in=summary.tokens_in, tokens_out=summary.tokens_out, errors=summary.errors,
        unpriced_requests=summary.unpriced, by_provider=providers))


# --- grouped usage and export ------------------------------------------------------------------------------


async def usage_grouped(call: Call) -> Reply:
    group_by = call.query.get("group_by") or "day"
    if group_by not in GROUPINGS:
        raise Unprocessable(f"group_by: one of {', '.join(GROUPINGS)}, not {group_by!r}", param="group_by")
    first, last = _days(call, default_this_month=True)
    assert first is not None and last is not None
    start, end = _bounds(first, last)
    assert start is not None and end is not None
    groups = await (await _settled(call)).grouped(call.principal, cast(GroupBy, group_by), start, end)
    data = [UsageGroupOut(group=g.group, requests=g.requests, tokens_in=g.tokens_in, tokens_out=g.tokens_out,
                          cached_tokens=g.cached_tokens, reasoning_tokens=g.reasoning_tokens, cost=g.cost,
                          errors=g.errors, unpriced_requests=g.unpriced) for g in groups]
    return Reply(200, UsageGroupList(group_by=cast(Any, group_by), start=first.isoformat(), end=last.isoformat(),
                                     data=data))


def _csv_cell(record: UsageRecord, column: str) -> Any:
    value = getattr(record, column)
    if column == "created_at":
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    if column == "cost":
        return "" if value is None else format(value, "f")
    if column == "attempts":
        return msgspec.json.encode(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


async def _csv_rows(chunks: AsyncIterator[list[UsageRecord]]) -> AsyncIterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue().encode()
    async for chunk in chunks:
        out.seek(0)
        out.truncate()
        writer.writerows([_csv_cell(r, c) for c in CSV_COLUMNS] for r in chunk)
        yield out.getvalue().encode()


async def usage_export(call: Call) -> Reply:
    """The records of a range (``from``/``to``, default this UTC month) as CSV, one row per record, sent
    as it is read."""
    kind = call.query.get("format") or "csv"
    if kind != "csv":
        raise Unprocessable(f"format: only csv is offered, not {kind!r}", param="format")
    first, last = _days(call, default_this_month=True)
    assert first is not None and last is not None
    start, end = _bounds(first, last)
    reports = await _settled(call)
    rows = _csv_rows(reports.export(call.principal, start, end))
    filename = f"byway-usage-{first.isoformat()}-to-{last.isoformat()}.csv"
    return Reply(200, Streamed(rows, "text/csv; charset=utf-8",
                               {"content-disposition": f'attachment; filename="{filename}"'}))


# --- request logs ------------------------------------------------------------------------------------------


def _log_out(r: UsageRecord) -> UsageLogOut:
    return UsageLogOut(
        request_id=r.request_id, created_at=datetime.fromtimestamp(r.created_at, UTC), user_id=r.user_id,
        key_id=r.key_id, credential=r.credential, provider=r.provider, model=r.model, endpoint=r.endpoint,
        stream=r.stream, tokens_in=r.tokens_in, tokens_out=r.tokens_out, cached_tokens=r.cached_tokens,
        cache_write_tokens=r.cache_write_tokens, reasoning_tokens=r.reasoning_tokens, cost=r.cost,
        estimated=r.estimated, latency_ms=r.latency_ms, ttft_ms=r.ttft_ms, status_code=r.status_code,
        success=r.success, error=r.error,
        attempts=[AttemptOut(provider=a.provider, model=a.model, status=a.status, latency_ms=a.latency_ms)
                  for a in r.attempts])


async def _logs(call: Call, provider: str | None) -> Reply:
    first, last = _days(call, default_this_month=False)
    start, end = _bounds(first, last)
    where = LogFilter(provider=provider, model=call.query.get("model") or None, status=_status(call),
                      user_id=call.query.get("user_id") or None, key_id=call.query.get("key_id") or None,
                      start=start, end=end)
    limit = _count(call, "limit", DEFAULT_LIMIT, 1, MAX_LOGS)
    offset = _count(call, "offset", 0, 0)
    found = await (await _settled(call)).logs(call.principal, where, limit=limit, offset=offset)
    return Reply(200, UsageLogList(data=[_log_out(r) for r in found]))


async def request_logs(call: Call) -> Reply:
    """The caller's usage records (an admin's: everyone's), newest first."""
    return await _logs(call, call.query.get("provider") or None)


async def provider_logs(call: Call) -> Reply:
    """Every user's usage records (admins), newest first; ``/{provider}`` for one provider's."""
    return await _logs(call, call.params.get("provider") or call.query.get("provider") or None)


# --- budget alerts -------------------------------------------------------------------------------------------


async def list_alerts(call: Call) -> Reply:
    """The caller's budget alerts (an admin's: all), newest first; ``?period=YYYY-MM`` for one month's."""
    period = _period(call) if call.query.get("period") else None
    if call.gateway.ledger is not None:
        await call.gateway.ledger.flush()
    if call.gateway.alerts is not None:
        await call.gateway.alerts.flush()
    found = await call.accounts.store.alerts.list(call.principal, period)
    return Reply(200, AlertList(data=[AlertOut(id=a.id, scope=a.scope, period=a.period, user_id=a.user_id,
                                               percent=a.percent, spent=a.spent, budget=a.budget,
                                               created_at=a.created_at, delivered_at=a.delivered_at)
                                      for a in found]))
