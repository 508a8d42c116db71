"""Provider monitoring (admins): ``GET /api/providers/health`` — every provider connection's verdict
(healthy, degraded, down or unknown, with the reason), latency p50/p95, error rate and circuit state,
from live traffic and the active checks; ``?check=true`` checks every configured provider first."""

from __future__ import annotations

import asyncio

import msgspec

from byway.routing.health import Health
from byway.server.management.http import Call, Reply


class HealthList(msgspec.Struct, kw_only=True):
    data: list[Health]


async def provider_health(call: Call) -> Reply:
    engine = call.gateway.engine
    if call.query.get("check", "").lower() in ("1", "true", "yes"):
        await asyncio.gather(*(engine.check(p) for p in engine.router.providers.values() if p.enabled))
    return Reply(200, HealthList(data=engine.health_report()))
