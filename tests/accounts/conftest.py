"""An in-process gateway (the real ASGI app with its lifespan, on httpx) with accounts on SQLite, and
the mock providers on loopback for its credentials to point at."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from aiohttp.abc import AbstractResolver
from sqlalchemy import func, select

from byway.config import parse_config
from byway.mock import MockServer, running
from byway.server.app import App
from byway.server.bootstrap import Settings
from byway.server.factory import build_app
from byway.store.schema import credentials as credentials_table
from tests.store.databases import FAST_PASSWORDS

MASTER = "byw-master-accounts-0123456789abcdef"
SECRET = "accounts-test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


def settings_for(work: Path, *, database_url: str | None = None, secret: str = SECRET,
                 source: str = "env") -> Settings:
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    if source == "file":
        (data / "secret.key").write_text(secret + "\n")
    return Settings(data_dir=data, database_url=database_url or f"sqlite:///{data / 'byway.db'}", master_key=MASTER,
                    secret_key=secret, secret_source=source)  # type: ignore[arg-type]


def config_for(mock_url: str, *, allow_private: bool = True) -> Any:
    return parse_config({
        "allow_private_base_urls": allow_private,
        "providers": [{"name": "oa", "type": "openai", "api_key": "sk-config-openai",
                       "base_url": f"{mock_url}/openai/v1", "models": ["gpt-4o-mini", "gpt-4o"], "priority": 1},
                      {"name": "an", "type": "anthropic", "api_key": "sk-ant-config",
                       "base_url": f"{mock_url}/anthropic", "models": ["claude-3-5-haiku-latest"], "priority": 2}],
    })


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    """Run the ASGI lifespan: startup before the block, shutdown after."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        await task
        raise RuntimeError(started.get("message", "startup failed"))
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await task


class Member:
    def __init__(self, user_id: str, email: str, key: str, key_id: str) -> None:
        self.user_id = user_id
        self.email = email
        self.key = key
        self.key_id = key_id
        self.headers = {"authorization": f"Bearer {key}"}


class Gateway:
    """The app, an httpx client on it, and helpers that act as the master key or as a member."""

    master = {"authorization": f"Bearer {MASTER}"}

    def __init__(self, app: App, client: httpx.AsyncClient, mock_url: str) -> None:
        self.app = app
        self.client = client
        self.mock_url = mock_url

    @property
    def accounts(self) -> Any:
        return self.app.gateway.accounts

    async def call(self, method: str, path: str, who: Member | None = None, **kw: Any) -> httpx.Response:
        headers = who.headers if who is not None else self.master
        return await self.client.request(method, path, headers=headers, **kw)

    async def member(self, email: str, role: str = "member") -> Member:
        made = await self.call("POST", "/api/users", json={"email": email, "role": role})
        assert made.status_code == 201, made.text
        user_id = made.json()["id"]
        key = await self.call("POST", "/api/keys", json={"name": "test", "user_id": user_id})
        assert key.status_code == 201, key.text
        return Member(user_id, email, key.json()["key"], key.json()["id"])

    async def credential(self, who: Member | None, name: str, api_key: str, **fields: Any) -> dict[str, Any]:
        body = {"provider_type": "openai", "name": name, "api_key": api_key,
                "base_url": f"{self.mock_url}/openai/v1"} | fields
        made = await self.call("POST", "/api/credentials", who, json=body)
        assert made.status_code == 201, made.text
        return made.json()  # type: ignore[no-any-return]

    async def chat(self, who: Member | None, model: str, text: str = "hello", **extra: Any) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": text}]} | extra
        return await self.call("POST", "/v1/chat/completions", who, json=body)


@asynccontextmanager
async def serving(work: Path, mock_url: str, *, allow_private: bool = True, database_url: str | None = None,
                  settings: Settings | None = None, resolver: AbstractResolver | None = None,
                  poll_seconds: float = 0) -> AsyncIterator[Gateway]:
    config = config_for(mock_url, allow_private=allow_private)
    app = build_app(config, settings or settings_for(work, database_url=database_url), poll_seconds=poll_seconds,
                    resolver=resolver)
    assert app.gateway.accounts is not None
    app.gateway.accounts.store.users.passwords = FAST_PASSWORDS
    async with lifespan(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                base_url="http://byway", timeout=30) as client:
        yield Gateway(app, client, mock_url)


@pytest.fixture
async def gateway(tmp_path: Path, mock: MockServer) -> AsyncIterator[Gateway]:
    async with serving(tmp_path, mock.url) as opened:
        yield opened


def mock_requests(gateway: Gateway) -> list[dict[str, Any]]:
    """The mock's log of the latest requests it received (the newest last)."""
    with urllib.request.urlopen(gateway.mock_url + "/_mock/requests") as r:
        return msgspec.json.decode(r.read())  # type: ignore[no-any-return]


def mock_total(gateway: Gateway) -> int:
    """How many requests the mock has received in all."""
    with urllib.request.urlopen(gateway.mock_url + "/_mock/stats") as r:
        return msgspec.json.decode(r.read())["total"]  # type: ignore[no-any-return]


async def credential_rows(gateway: Gateway) -> int:
    async with gateway.accounts.store.engine.connect() as db:
        return (await db.execute(select(func.count()).select_from(credentials_table))).scalar_one()  # type: ignore[no-any-return]
