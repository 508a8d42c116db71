"""A second gateway process on the same database notices every change within a poll, on SQLite and
PostgreSQL, including audit entries that become visible out of order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from byway.accounts import Accounts, SecretKey
from byway.accounts.inputs import KeyInput
from byway.core import AuthenticationError
from byway.core.principal import Principal
from byway.mock import MockServer
from byway.store import ADMIN, NewKey
from byway.store.schema import audit_log
from byway.store.types import utcnow
from tests.accounts.conftest import SECRET, serving
from tests.store.databases import FAST_PASSWORDS, blank_url, database_url, postgres

__all__ = ["blank_url", "database_url", "postgres"]


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the second process did not notice the change")
        await asyncio.sleep(0.02)


def _principal(accounts: Accounts, key: str) -> Principal | None:
    try:
        return accounts.directory.authenticate(key)
    except AuthenticationError:
        return None


async def test_a_second_process_follows_changes(tmp_path: Path, mock: MockServer, database_url: str) -> None:
    other = Accounts(database_url, SecretKey(value=SECRET, source="env"), allow_private_base_urls=True,
                     poll_seconds=0.05, passwords=FAST_PASSWORDS)
    async with serving(tmp_path, mock.url, database_url=database_url) as first:
        await other.start()
        try:
            bob = await first.member("bob@example.com")
            await eventually(lambda: _principal(other, bob.key) is not None)
            assert _principal(other, bob.key).user_id == bob.user_id  # type: ignore[union-attr]
            made = await first.credential(bob, "mine", "sk-bob-feed-1", temperature=0.5)
            view = lambda: other.directory.personal(_principal(other, bob.key))  # noqa: E731
            await eventually(lambda: view() is not None and "mine" in view().by_name)
            offered = view().by_name["mine"]
            assert offered.provider.api_key == "sk-bob-feed-1" and offered.defaults.temperature == 0.5
            await first.call("PATCH", f"/api/credentials/{made['id']}", bob, json={"api_key": "sk-bob-feed-2"})
            await eventually(lambda: view().by_name["mine"].provider.api_key == "sk-bob-feed-2")
            await first.call("PUT", "/api/me/preferences", bob, json={"default_provider": "mine",
                                                                       "max_tokens_per_request": 99})
            await eventually(lambda: view().max_tokens == 99)
            assert _principal(other, bob.key).default_provider == "mine"  # type: ignore[union-attr]
            await first.call("DELETE", f"/api/credentials/{made['id']}", bob)
            await eventually(lambda: "mine" not in view().by_name)
            await first.call("DELETE", f"/api/keys/{bob.key_id}", bob)
            await eventually(lambda: _principal(other, bob.key) is None)
            with pytest.raises(AuthenticationError, match="revoked"):
                other.directory.authenticate(bob.key)
            # and the other way round: a change made there reaches the first gateway
            key, plaintext = await other.keys.create(ADMIN, KeyInput(name="from elsewhere", user_id=bob.user_id))
            await first.accounts.feed.sync()
            assert (await first.client.get("/v1/models", headers={"authorization": f"Bearer {plaintext}"})
                    ).status_code == 200
            await first.call("DELETE", f"/api/users/{bob.user_id}")
            await eventually(lambda: bob.user_id not in other.directory.users)
            assert _principal(other, plaintext) is None and key.id not in other.directory.keys
        finally:
            await other.close()


async def test_entries_that_appear_out_of_order_are_not_missed(tmp_path: Path, mock: MockServer,
                                                               database_url: str) -> None:
    async with serving(tmp_path, mock.url, database_url=database_url) as gateway:
        bob = await gateway.member("bob@example.com")
        feed = gateway.accounts.feed
        high = feed._high
        store = gateway.accounts.store
        # A transaction that took id high+1 commits after one that took high+2: the later id shows first.
        key, plaintext = await store.keys.create(bob.user_id, NewKey(name="late"))
        async with store.engine.begin() as db:
            await db.execute(audit_log.insert().values(id=high + 2, at=utcnow(), actor="master", action="x.y",
                                                       object_type="nothing", object_id=None, detail=None))
        await feed.sync()
        assert high + 1 in feed._gaps and feed._high == high + 2
        assert _principal(gateway.accounts, plaintext) is None
        async with store.engine.begin() as db:
            await db.execute(audit_log.insert().values(id=high + 1, at=utcnow(), actor="master",
                                                       action="key.create", object_type="key", object_id=key.id,
                                                       detail=None))
        assert await feed.sync() == 1
        assert _principal(gateway.accounts, plaintext).id == key.id  # type: ignore[union-attr]
        assert feed._gaps == {}
