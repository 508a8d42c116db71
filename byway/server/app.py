"""The ASGI application: a small path table in front of the handlers.

The ``/v1`` request path is plain ASGI with no framework in between: it is
measured, and every microsecond here is paid on every request.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
from collections.abc import Awaitable, Callable

import msgspec

from byway.accounts import Accounts
from byway.api.errors import anthropic_error, openai_error
from byway.core import ByWayError, NotFoundError
from byway.engine import Engine
from byway.server.asgi import JSON, ClientGone, Receive, Scope, Send, answer
from byway.server.auth import Authenticator, MasterKey
from byway.server.chat import chat_completions
from byway.server.context import Gateway, RequestContext
from byway.server.embeddings import create_embeddings
from byway.server.management import API_PREFIX, handle_api
from byway.server.messages import messages
from byway.server.metering import meter_failure, start_metering, stop_metering
from byway.server.metrics import metrics

log = logging.getLogger("byway.server")

Handler = Callable[[Gateway, RequestContext, Receive, Send], Awaitable[None]]


async def list_models(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    principal = gateway.principal(ctx.headers)
    router = gateway.engine.router
    data = []
    for name in router.available(principal):
        provider, _, _ = name.partition(":")
        owner = provider if name not in router.routes else "byway"
        data.append({"id": name, "object": "model", "created": 0, "owned_by": owner})
    await answer(send, 200, msgspec.json.encode({"object": "list", "data": data}),
                 [JSON, (b"x-byway-request-id", ctx.request_id.encode())])


async def health(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    await answer(send, 200, b'{"status":"ok"}', [JSON])


async def ready(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    if gateway.accounts is not None:  # the store's own connection: SQLite or PostgreSQL
        problem = await gateway.accounts.database_problem()
    else:
        problem = await asyncio.to_thread(_database_problem, gateway.database_url)
    if problem:
        await answer(send, 503, msgspec.json.encode({"status": "unavailable", "database": problem}), [JSON])
    else:
        await answer(send, 200, b'{"status":"ok","database":"ok"}', [JSON])


def _database_problem(url: str | None) -> str | None:
    """None when the database answers, else what is wrong."""
    if not url:
        return None
    if url.startswith("sqlite:///"):
        try:
            with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=2) as db:
                db.execute("SELECT 1").fetchone()
        except sqlite3.Error as e:
            return f"unreachable: {e}"
        return None
    return "unsupported database URL scheme for the readiness check"


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): chat_completions,
    ("POST", "/v1/messages"): messages,
    ("POST", "/v1/embeddings"): create_embeddings,
    ("GET", "/v1/models"): list_models,
    ("GET", "/health"): health,
    ("GET", "/health/ready"): ready,
    ("GET", "/metrics"): metrics,
}
PATHS = {path for _, path in ROUTES}
# Paths whose errors take another envelope than OpenAI's.
ERROR_RENDERERS: dict[str, Callable[[ByWayError], tuple[int, dict[str, str], bytes]]] = {
    "/v1/messages": anthropic_error,
}


class App:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = RequestContext(scope["headers"])
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        handler = ROUTES.get((scope["method"], path))
        try:
            if handler is None:
                if path.startswith(API_PREFIX):
                    await handle_api(self.gateway, ctx, scope, path, receive, send)
                    return
                if path in PATHS:
                    raise ByWayError(f"method {scope['method']} is not allowed on {path}", status=405,
                                     code="method_not_allowed")
                raise NotFoundError(f"unknown path {path}", code="unknown_url")
            await handler(self.gateway, ctx, receive, send)
        except ByWayError as e:
            status, extra, body = ERROR_RENDERERS.get(path, openai_error)(e)
            headers = [JSON, (b"x-byway-request-id", ctx.request_id.encode())]
            tried = getattr(e, "attempts", None)  # a provider error lists every upstream attempt
            if tried is not None:
                meter_failure(self.gateway, ctx, e, status)
                headers.append((b"x-byway-attempts", str(len(tried)).encode()))
            headers.extend((k.encode(), v.encode()) for k, v in extra.items())
            await answer(send, status, body, headers)
        except ClientGone:
            return
        except Exception:
            log.exception("unexpected error on %s %s (request %s)", scope["method"], path, ctx.request_id)
            render = ERROR_RENDERERS.get(path, openai_error)
            status, extra, body = render(ByWayError("internal error; see the gateway log for request "
                                                    + ctx.request_id, code="internal_error"))
            try:
                await answer(send, 500, body, [JSON, (b"x-byway-request-id", ctx.request_id.encode())])
            except Exception:  # the response had already started: nothing more can be said
                pass

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.gateway.engine.warm()
                self.gateway.engine.start_health_checks()
                try:
                    if self.gateway.accounts is not None:
                        await self.gateway.accounts.start()
                    await start_metering(self.gateway)
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": f"byway: cannot start: {e}"})
                    return
                # Everything made at start (modules, the price catalogue, the accounts directory) lives as long
                # as the process: keep it out of the cyclic collector's full scans, which request garbage
                # would otherwise keep triggering over hundreds of thousands of objects. And collect the young
                # generation after 10,000 net allocations rather than 700: a request's objects die with it (by
                # reference counting), but the requests in flight alone kept crossing 700, and each young
                # collection then walked them all (about 20 us a request at 32 connections).
                gc.collect()
                gc.freeze()
                gc.set_threshold(10_000, *gc.get_threshold()[1:])
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await stop_metering(self.gateway)
                finally:  # whatever happened there, the accounts still write back what they hold
                    if self.gateway.accounts is not None:
                        await self.gateway.accounts.close()
                    await self.gateway.engine.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(engine: Engine, authenticator: Authenticator | str, database_url: str | None = None,
               accounts: Accounts | None = None) -> App:
    if isinstance(authenticator, str):
        authenticator = MasterKey(authenticator)
    return App(Gateway(engine, authenticator, database_url, accounts))
