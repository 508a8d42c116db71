"""What a management handler is given (``Call``) and answers (``Reply``), and the JSON rules: bodies
decode into typed documents, and a document that does not fit answers 422 naming the field."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs

import msgspec

from byway.accounts import Accounts
from byway.accounts.errors import Unprocessable
from byway.core import InvalidRequestError
from byway.core.principal import Principal
from byway.server.asgi import Headers, Send
from byway.server.context import Gateway

T = TypeVar("T")
_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_REQUIRED = re.compile(r"missing required field `([^`]+)`")
_PATTERN = re.compile(r"Expected `str` matching regex .*")


def encode(payload: Any) -> bytes:
    """``payload`` as the API's JSON. Money (every ``Decimal``) is a string in fixed notation without
    trailing zeros: msgspec alone writes a Decimal as ``str`` does, which turns 0.00000015 into
    ``1.5E-7``."""
    return msgspec.json.encode(_plain(msgspec.to_builtins(payload, builtin_types=(Decimal,))))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Reply(msgspec.Struct, frozen=True):
    status: int
    payload: Any = None  # encoded as JSON; None with 204 is an empty body; a ``Streamed`` is sent as it comes


class Streamed:
    """A body sent piece by piece as ``chunks`` makes it (a CSV export), not one JSON document.

    Nothing is sent before the handler returns, so its errors still answer in the JSON error shape; once
    the first piece is out the status is fixed, and a failure only cuts the body short."""

    __slots__ = ("chunks", "content_type", "headers")

    def __init__(self, chunks: AsyncIterator[bytes], content_type: str, headers: dict[str, str] | None = None) -> None:
        self.chunks = chunks
        self.content_type = content_type
        self.headers = headers or {}

    async def send(self, send: Send, status: int, headers: Headers) -> None:
        headers = [*headers, (b"content-type", self.content_type.encode()),
                   *((k.encode(), v.encode()) for k, v in self.headers.items())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        async for chunk in self.chunks:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


class Call:
    """One management request, authenticated: who asks, the path parameters, the query and the body."""

    __slots__ = ("accounts", "body", "gateway", "params", "principal", "query")

    def __init__(self, gateway: Gateway, accounts: Accounts, principal: Principal, params: dict[str, str],
                 query: bytes, body: bytes) -> None:
        self.gateway = gateway
        self.accounts = accounts
        self.principal = principal
        self.params = params
        self.query = {k: v[-1] for k, v in parse_qs(query.decode("latin-1")).items()} if query else {}
        self.body = body

    def json(self, kind: type[T]) -> T:
        """The body as ``kind``: 400 when it is not JSON, 422 when it does not fit."""
        return decode(self.body or b"{}", kind)


def decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as e:
        message, param = describe(str(e))
        raise Unprocessable(message, param=param) from None
    except msgspec.DecodeError:
        raise InvalidRequestError("the request body is not valid JSON", code="invalid_json") from None


def describe(text: str) -> tuple[str, str | None]:
    """A msgspec validation message as people read it, and the field it is about."""
    match = _AT.search(text)
    where = match.group(1) if match else ""
    what = _AT.sub("", text)
    for pattern, problem in ((_UNKNOWN, "unknown field"), (_REQUIRED, "required")):
        found = pattern.search(what)
        if found:
            field = f"{where}.{found.group(1)}" if where else found.group(1)
            return f"{field}: {problem}", field
    what = _PATTERN.sub("must not contain ':' or whitespace", what)
    what = what[0].lower() + what[1:] if what else what
    if not where:
        return what, None
    return f"{where}: {what}", where
