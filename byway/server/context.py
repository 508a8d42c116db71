"""What every request handler is given: the gateway's shared state and the request's own."""

from __future__ import annotations

import itertools
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from byway.core.principal import Principal
from byway.engine import Engine
from byway.server.asgi import Headers
from byway.server.auth import Authenticator, Sessions, authenticate, bearer_key

if TYPE_CHECKING:
    from byway.accounting.ledger import Ledger
    from byway.accounting.stats import ProviderStats
    from byway.accounts import Accounts
    from byway.server.alerts import AlertDesk


class Gateway:
    """The state one server process shares across requests. ``accounts`` (users, keys, credentials) is
    None for a gateway run without a database (tests of the request path alone)."""

    def __init__(self, engine: Engine, authenticator: Authenticator, database_url: str | None = None,
                 accounts: Accounts | None = None, sessions: Sessions | None = None) -> None:
        self.engine = engine
        self.authenticator = authenticator
        self.database_url = database_url
        self.accounts = accounts
        self.sessions = sessions
        # Metering (set by the factory when the gateway has a database): the usage ledger, the in-memory
        # statistics fed from it, and the desk that stores and delivers budget alerts.
        self.ledger: Ledger | None = None
        self.stats: ProviderStats | None = None
        self.alerts: AlertDesk | None = None
        self.journal_dir: Path | None = None

    def principal(self, headers: Headers, *, allow_x_api_key: bool = False) -> Principal:
        return authenticate(self.authenticator, bearer_key(headers, allow_x_api_key=allow_x_api_key))


# Request ids: a random prefix per process and a counter, unique across replicas without a syscall per request.
_PREFIX = "req_" + secrets.token_hex(6)
_COUNTER = itertools.count(1)


class RequestContext:
    """One request: its id and start, and once a handler knows them, who is calling on which endpoint (what
    its usage record will say)."""

    __slots__ = ("at", "endpoint", "headers", "principal", "request_id", "started", "stream")

    def __init__(self, headers: Headers) -> None:
        self.started = time.perf_counter()
        self.at = time.time()
        self.headers = headers
        self.request_id = f"{_PREFIX}{next(_COUNTER):010x}"
        self.principal: Principal | None = None
        self.endpoint = ""
        self.stream = False

    def response_headers(self, provider: str, model: str, attempts: int, upstream_seconds: float) -> Headers:
        overhead = (time.perf_counter() - self.started - upstream_seconds) * 1000
        return [
            (b"x-byway-request-id", self.request_id.encode()),
            (b"x-byway-provider", provider.encode()),
            (b"x-byway-model", model.encode()),
            (b"x-byway-attempts", str(attempts).encode()),
            (b"x-byway-overhead-ms", f"{max(overhead, 0.0):.3f}".encode()),
        ]
