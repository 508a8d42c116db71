"""Budget alerts: the alert desk stores each alert once and POSTs it to a webhook receiver on loopback
(aiohttp), retrying a failing receiver three times and logging, without the URL, one that never takes it;
and through a real ``byway serve``, a member's spend crossing their alert threshold reaches the webhook and
``/api/alerts``."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from aiohttp import web

from byway.accounting.budgets import Alert
from byway.config import ConfigError, parse_config
from byway.mock import MockServer
from byway.server.alerts import AlertDesk
from byway.store import ADMIN, Store, upgrade
from tests.serving import free_port, serving

TOKEN = "s3cr3t-hook-token"


class Receiver:
    """A webhook receiver on a loopback port, in a thread of its own: it answers the statuses in ``plan``
    in turn (then 200) and keeps what it was sent."""

    def __init__(self, plan: list[int] | None = None, delay: float = 0.0) -> None:
        self.plan = list(plan or [])
        self.delay = delay
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook/{TOKEN}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((request.headers.get("content-type", ""), msgspec.json.decode(body)))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.plan.pop(0) if self.plan else 200, text="ok")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/hook/{token}", self._handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def wait_for(self, count: int, seconds: float = 20) -> list[dict[str, Any]]:
        deadline = time.time() + seconds
        while len(self.received) < count and time.time() < deadline:
            time.sleep(0.05)
        return [body for _, body in self.received]


def alert(scope: str = "user:usr_ada", period: str = "2025-03", **kw: Any) -> Alert:
    values: dict[str, Any] = {"user_id": "usr_ada", "percent": 80, "spent": Decimal("8.0000000001"),
                              "budget": Decimal("10"), "at": datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC).timestamp()}
    return Alert(scope=scope, period=period, **(values | kw))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite:///{tmp_path / 'byway.db'}"
    await upgrade(url)
    async with Store.open(url) as opened:
        yield opened


async def test_an_alert_is_stored_and_posted_once(store: Store) -> None:
    with Receiver() as receiver:
        desk = AlertDesk(store, receiver.url, backoff=0.05)
        await desk.start()
        desk.raise_alert(alert())
        desk.raise_alert(alert(spent=Decimal("9.1")))  # the same budget and month again: stored once, sent once
        desk.raise_alert(alert("key:key_ada", percent=95))
        await desk.flush()
        stored = await store.alerts.list(ADMIN)
        assert sorted(a.scope for a in stored) == ["key:key_ada", "user:usr_ada"]
        await desk.close()
        bodies = receiver.wait_for(2)
    assert len(receiver.received) == 2 and {t for t, _ in receiver.received} == {"application/json"}
    user = next(b for b in bodies if b["scope"] == "user:usr_ada")
    stored_user = next(a for a in stored if a.scope == "user:usr_ada")
    assert user == {"type": "budget_alert", "id": stored_user.id, "scope": "user:usr_ada", "period": "2025-03",
                    "user_id": "usr_ada", "percent": 80, "spent": "8.0000000001", "budget": "10",
                    "created_at": "2025-03-14T09:26:53Z"}
    assert next(b for b in bodies if b["scope"] == "key:key_ada")["percent"] == 95
    assert all(a.delivered_at is not None for a in await store.alerts.list(ADMIN))


async def test_a_failing_receiver_is_tried_three_times(store: Store) -> None:
    with Receiver(plan=[500, 503]) as receiver:
        desk = AlertDesk(store, receiver.url, backoff=0.05)
        await desk.start()
        desk.raise_alert(alert())
        await desk.close()
    assert len(receiver.received) == 3  # two refusals, then taken
    [stored] = await store.alerts.list(ADMIN)
    assert stored.delivered_at is not None


async def test_an_alert_nobody_takes_is_logged_without_the_url(store: Store,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="byway.alerts")
    with Receiver(plan=[500] * 10) as receiver:
        desk = AlertDesk(store, receiver.url, backoff=0.05)
        await desk.start()
        desk.raise_alert(alert())
        started = time.perf_counter()
        await desk.close()
        assert time.perf_counter() - started < 5
    assert len(receiver.received) == 3  # and no more
    [stored] = await store.alerts.list(ADMIN)
    assert stored.delivered_at is None
    [line] = [r.getMessage() for r in caplog.records if r.name == "byway.alerts"]
    assert "user:usr_ada" in line and "2025-03" in line and "3 tries" in line and "HTTP 500" in line
    assert TOKEN not in caplog.text and "127.0.0.1" not in caplog.text


async def test_a_slow_or_absent_receiver_does_not_hold_the_desk(store: Store,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="byway.alerts")
    with Receiver(delay=2.0) as slow:
        desk = AlertDesk(store, slow.url, timeout=0.2, tries=2, backoff=0.01)
        await desk.start()
        desk.raise_alert(alert())
        await desk.flush()  # stored at once, whatever the webhook does
        assert len(await store.alerts.list(ADMIN)) == 1
        await desk.close()
    assert "TimeoutError" in caplog.text
    nowhere = AlertDesk(store, f"http://127.0.0.1:{free_port()}/hook", tries=2, backoff=0.01)
    await nowhere.start()
    nowhere.raise_alert(alert("key:key_ada"))
    await nowhere.close()
    assert "ClientConnectorError" in caplog.text
    assert all(a.delivered_at is None for a in await store.alerts.list(ADMIN))


async def test_without_a_webhook_alerts_are_stored_only(store: Store) -> None:
    desk = AlertDesk(store, None)
    desk.raise_alert(alert())  # queued before the desk starts: kept
    await desk.start()
    await desk.close()
    [stored] = await store.alerts.list(ADMIN)
    assert stored.scope == "user:usr_ada" and stored.delivered_at is None


# --- through byway serve --------------------------------------------------------------------------------------

MASTER = "byw-master-alerts-0123456789abcdef"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as opened:
        yield opened


def test_a_members_spend_crossing_their_threshold_reaches_the_webhook(tmp_path: Path, mock: MockServer,
                                                                      receiver: Receiver) -> None:
    config = tmp_path / "byway.yaml"
    config.write_text(f"""
alert_webhook_url: {receiver.url}
providers:
  - name: oa
    type: openai
    api_key: sk-alerts
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini]
    prices:
      gpt-4o-mini: {{input: 1000, output: 1000}}
""")
    with serving(config, tmp_path, MASTER) as url:
        http = httpx.Client(base_url=url, timeout=30)
        master = {"authorization": f"Bearer {MASTER}"}
        user = http.post("/api/users", headers=master,
                         json={"email": "ada@example.com", "role": "member", "monthly_budget": "1"}).json()
        key = http.post("/api/keys", headers=master, json={"name": "ada", "user_id": user["id"]}).json()
        ada = {"authorization": f"Bearer {key['key']}"}
        assert http.put("/api/me/preferences", headers=ada, json={"quota_alert_percent": 1}).status_code == 200
        answer = http.post("/v1/chat/completions", headers=ada, json={
            "model": "oa:gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "hello"}]})
        assert answer.status_code == 200, answer.text
        spent = Decimal(answer.headers["x-byway-cost-usd"])  # a token costs 0.001 USD: over 1% of 1 USD
        bodies = receiver.wait_for(1)
        alerts = http.get("/api/alerts", headers=ada).json()["data"]
        others = http.get("/api/alerts", headers={"authorization": f"Bearer {MASTER}"}).json()["data"]
    user_alerts = [b for b in bodies if b["scope"] == f"user:{user['id']}"]
    assert len(user_alerts) == 1
    sent = user_alerts[0]
    assert sent["type"] == "budget_alert" and sent["user_id"] == user["id"] and sent["percent"] == 1
    assert Decimal(sent["spent"]) == spent and Decimal(sent["budget"]) == 1
    assert sent["period"] == datetime.now(UTC).strftime("%Y-%m")
    mine = [a for a in alerts if a["scope"] == f"user:{user['id']}"]
    assert len(mine) == 1 and mine[0]["id"] == sent["id"]
    assert {a["user_id"] for a in alerts} == {user["id"]} and len(others) >= len(alerts)


def test_the_config_takes_only_an_http_webhook_url() -> None:
    assert parse_config({"alert_webhook_url": "https://hooks.example.com/byway"}).alert_webhook_url == (
        "https://hooks.example.com/byway")
    assert parse_config({}).alert_webhook_url is None
    for bad in ("ftp://hooks.example.com/x", "hooks.example.com/x", ""):
        with pytest.raises(ConfigError) as info:
            parse_config({"alert_webhook_url": bad})
        assert str(info.value) == "config error: alert_webhook_url: must start with http:// or https://"
