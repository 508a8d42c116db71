"""The management API under ``/api``: users, gateway keys, provider credentials, preferences, the
provider catalogue, and its OpenAPI document.

JSON in and out, authenticated by the master key or a gateway key as a Bearer token (or, once the
dashboard provides ``Gateway.sessions``, its session cookie). Creates answer 201 with the object,
lists ``{"data": [...]}``, deletes 204; errors are ``{"error": {message, type, param, code}}``, with
422 for a field that does not fit and 404 for another user's object.
"""

from __future__ import annotations

from byway.core import ByWayError, NotFoundError, PermissionDeniedError
from byway.core.principal import Principal
from byway.server.asgi import JSON, Receive, Scope, Send, answer, read_body
from byway.server.context import Gateway, RequestContext
from byway.server.management.http import Call, Streamed, encode
from byway.server.management.routes import ROUTES, match

API_PREFIX = "/api/"
ANONYMOUS = Principal(id="anonymous", kind="key", role="member")  # who public routes answer

__all__ = ["API_PREFIX", "ROUTES", "handle_api"]


def caller(gateway: Gateway, method: str, headers: list[tuple[bytes, bytes]]) -> Principal:
    """The principal of a management request: a Bearer key, else a dashboard session when there is one."""
    if gateway.sessions is not None and not any(name == b"authorization" for name, _ in headers):
        principal = gateway.sessions.principal(method, headers)
        if principal is not None:
            return principal
    return gateway.principal(headers)


async def handle_api(gateway: Gateway, ctx: RequestContext, scope: Scope, path: str, receive: Receive,
                     send: Send) -> None:
    method = scope["method"]
    route, params, elsewhere = match(method, path)
    if route is None:
        if elsewhere:
            raise ByWayError(f"method {method} is not allowed on {path}", status=405, code="method_not_allowed")
        raise NotFoundError(f"unknown path {path}", code="unknown_url")
    accounts = gateway.accounts
    if accounts is None:
        raise ByWayError("the management API needs the gateway's database", status=503, code="no_database")
    principal = caller(gateway, method, ctx.headers) if not route.public else ANONYMOUS
    if route.admin and principal.role != "admin":
        raise PermissionDeniedError(f"only an admin may use {method} {route.path}")
    body = await read_body(receive) if method in ("POST", "PUT", "PATCH") else b""
    reply = await route.handler(Call(gateway, accounts, principal, params, scope.get("query_string", b""), body))
    headers = [(b"x-byway-request-id", ctx.request_id.encode())]
    if isinstance(reply.payload, Streamed):
        await reply.payload.send(send, reply.status, headers)
        return
    if reply.status == 204:
        await answer(send, 204, b"", headers)
        return
    headers.append(JSON)
    await answer(send, reply.status, encode(reply.payload), headers)

