"""The alert desk: budget alerts raised on the request path are stored and delivered in the background.

``raise_alert`` only queues (it is called while a request settles its budget). A background task stores
each alert (once per budget and month: ``AlertsRepo.insert``) and then POSTs it to the configured webhook
as JSON::

    {"type": "budget_alert", "id": "alert_...", "scope": "user:usr_...", "period": "2025-03",
     "user_id": "usr_...", "percent": 80, "spent": "8.0125", "budget": "10", "created_at": "2025-03-14T09:26:53Z"}

A delivery gets ``tries`` attempts with a growing pause between them, each within ``timeout`` seconds; a
2xx answer marks the stored alert delivered. One that never succeeds is logged (scope, period and what
went wrong; never the webhook URL, which often carries a token) and left undelivered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Literal

import aiohttp
import msgspec

from byway.accounting.budgets import Alert
from byway.server.management.http import encode
from byway.store import Store
from byway.store.alerts import StoredAlert

log = logging.getLogger("byway.alerts")

TIMEOUT = 10.0
TRIES = 3
BACKOFF = 1.0  # seconds before the second try; doubled before each further one


class WebhookAlert(msgspec.Struct, frozen=True, kw_only=True):
    """The webhook's JSON body."""

    type: Literal["budget_alert"] = "budget_alert"
    id: str
    scope: str
    period: str
    user_id: str | None
    percent: int
    spent: Decimal
    budget: Decimal
    created_at: datetime


def webhook_body(alert: StoredAlert) -> bytes:
    """The alert as the webhook gets it, money in the management API's plain notation."""
    return encode(WebhookAlert(id=alert.id, scope=alert.scope, period=alert.period,
                                            user_id=alert.user_id, percent=alert.percent, spent=alert.spent,
                                            budget=alert.budget, created_at=alert.created_at))


class AlertDesk:
    """Stores and delivers budget alerts off the request path. ``start()`` begins the work, ``close()``
    finishes what is queued (storing and delivering) and stops."""

    def __init__(self, store: Store, webhook_url: str | None,
                 session_factory: Callable[[], aiohttp.ClientSession] | None = None, *,
                 timeout: float = TIMEOUT, tries: int = TRIES, backoff: float = BACKOFF) -> None:
        self.store = store
        self.webhook_url = webhook_url
        self._session_factory = session_factory or aiohttp.ClientSession
        self._session: aiohttp.ClientSession | None = None
        self.timeout = timeout
        self.tries = max(tries, 1)
        self.backoff = backoff
        self._queue: asyncio.Queue[Alert | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    def raise_alert(self, alert: Alert) -> None:
        """Queue ``alert`` (does not wait; safe to call from the request path)."""
        self._queue.put_nowait(alert)

    async def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="byway-alert-desk")

    async def flush(self) -> None:
        """Return once every alert queued so far is stored (its delivery may still be under way)."""
        if self._worker is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Store and deliver what is queued, then stop."""
        if self._worker is not None:
            self._queue.put_nowait(None)
            await self._worker
            self._worker = None
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _work(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                if alert is None:
                    return
                await self._store(alert)
            finally:
                self._queue.task_done()

    async def _store(self, alert: Alert) -> None:
        try:
            stored = await self.store.alerts.insert(alert)
        except Exception as e:  # the database is away: the alert is lost, the desk keeps working
            log.error("budget alert for %s (%s) could not be stored: %s", alert.scope, alert.period,
                      type(e).__name__)
            return
        if stored is None or self.webhook_url is None:
            return  # already alerted this month (another worker, or before a restart), or no webhook
        task = asyncio.create_task(self._deliver(stored))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, alert: StoredAlert) -> None:
        assert self.webhook_url is not None
        if self._session is None:
            self._session = self._session_factory()
        body = webhook_body(alert)
        problem = ""
        for attempt in range(self.tries):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                async with self._session.post(self.webhook_url, data=body,
                                              headers={"content-type": "application/json"},
                                              timeout=aiohttp.ClientTimeout(total=self.timeout)) as answer:
                    await answer.read()
                    delivered = 200 <= answer.status < 300
                    problem = f"HTTP {answer.status}"
            except (aiohttp.ClientError, TimeoutError) as e:
                delivered, problem = False, type(e).__name__
            if delivered:
                try:
                    await self.store.alerts.mark_delivered(alert.id)
                except Exception as e:
                    log.error("budget alert %s was delivered but could not be marked so: %s", alert.id,
                              type(e).__name__)
                return
        log.warning("budget alert %s for %s (%s) was not delivered to the webhook after %d tries: %s",
                    alert.id, alert.scope, alert.period, self.tries, problem)
