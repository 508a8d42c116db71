"""The secret key's life with a serving gateway: rotation while it serves (the key in the data dir, or in
the environment), a rotation cut short, a restart, and ciphertexts swapped between rows."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from byway.cli import app as cli
from byway.mock import MockServer
from byway.store import Store
from byway.store.schema import credentials as credentials_table
from byway.vault import Keyring, VaultError, rotate
from tests.accounts.conftest import MASTER, SECRET, Gateway, Member, serving, settings_for

NEW_SECRET = "the-next-secret-key-for-the-vault-0123456789"


def _env(work: Path, secret: str | None) -> dict[str, Any]:
    return {"BYWAY_DATA_DIR": str(work / "data"), "BYWAY_MASTER_KEY": MASTER, "BYWAY_SECRET_KEY": secret,
            "BYWAY_DATABASE_URL": None, "BYWAY_CONFIG": None}


async def _rotate_cli(work: Path, secret: str | None, *args: str) -> Any:
    config = work / "byway.yaml"
    config.write_text("allow_private_base_urls: true\n")
    return await asyncio.to_thread(CliRunner().invoke, cli, ["rotate-secret", "--config", str(config), *args],
                                   env=_env(work, secret))


async def _setup(gateway: Gateway) -> Member:
    bob = await gateway.member("bob@example.com")
    await gateway.credential(bob, "mine", "sk-rotate-bob-0001")
    await gateway.credential(None, "team", "sk-rotate-team-0002", shared=True)
    return bob


async def test_rotation_while_serving_with_the_key_in_the_data_dir(tmp_path: Path, mock: MockServer) -> None:
    data = tmp_path / "data"
    async with serving(tmp_path, mock.url, settings=settings_for(tmp_path, source="file")) as gateway:
        bob = await _setup(gateway)
        done = await _rotate_cli(tmp_path, None)
        assert done.exit_code == 0, done.output
        assert "re-sealed 2 credential(s) from key version 1 to 2" in done.output
        new_secret = (data / "secret.key").read_text().strip()
        assert new_secret != SECRET and len(new_secret) >= 32 and new_secret not in done.stdout
        assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
        assert not (data / "secret.key.new").exists()
        assert (await gateway.chat(bob, "mine")).status_code == 200  # still serving before it notices
        await gateway.accounts.feed.sync()  # the poll, now
        ring = gateway.accounts.keyring()
        assert ring.current.version == 2 and ring.previous is not None and ring.previous.version == 1
        assert await gateway.accounts.store.credentials.versions_in_use() == {2}
        assert (await gateway.chat(bob, "mine")).status_code == 200
        assert (await gateway.chat(bob, "team")).status_code == 200
        await gateway.credential(bob, "after", "sk-after-rotation-3")
        assert await gateway.accounts.store.credentials.versions_in_use() == {2}
    restarted = settings_for(tmp_path, secret=new_secret, source="file")
    async with serving(tmp_path, mock.url, settings=restarted) as again:
        for model in ("mine", "team", "after"):
            answer = await again.chat(bob, model, "after restart")
            assert answer.status_code == 200, (model, answer.text)
        names = {c["name"] for c in (await again.call("GET", "/api/credentials", bob)).json()["data"]}
        assert names == {"mine", "team", "after"}
    async with Store.open(restarted.database_url) as store:
        with pytest.raises(VaultError, match="retired"):
            await Keyring.load(store, SECRET)


async def test_rotation_with_the_key_in_the_environment(tmp_path: Path, mock: MockServer) -> None:
    async with serving(tmp_path, mock.url, settings=settings_for(tmp_path, source="env")) as gateway:
        bob = await _setup(gateway)
        done = await _rotate_cli(tmp_path, SECRET, "--new-secret", NEW_SECRET)
        assert done.exit_code == 0, done.output
        assert done.stdout.strip() == NEW_SECRET and "BYWAY_SECRET_KEY" in done.output
        await gateway.accounts.feed.sync()
        assert gateway.accounts.vault_stale is True
        assert (await gateway.chat(bob, "mine")).status_code == 200  # what it holds in memory keeps working
        refused = await gateway.call("POST", "/api/credentials", bob, json={
            "provider_type": "openai", "name": "x", "api_key": "sk-x", "base_url": gateway.mock_url + "/openai/v1"})
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "vault_unavailable"
        short = await _rotate_cli(tmp_path, NEW_SECRET, "--new-secret", "too-short")
        assert short.exit_code == 2 and "at least 32 characters" in short.output
    async with serving(tmp_path, mock.url, settings=settings_for(tmp_path, secret=NEW_SECRET)) as again:
        assert (await again.chat(bob, "mine")).status_code == 200
        assert (await again.chat(bob, "team")).status_code == 200
        await again.credential(bob, "now", "sk-now-4")


async def test_a_rotation_cut_short_is_served_and_then_finished(tmp_path: Path, mock: MockServer) -> None:
    data = tmp_path / "data"
    settings = settings_for(tmp_path, source="file")
    async with serving(tmp_path, mock.url, settings=settings) as gateway:
        bob = await _setup(gateway)
    # the CLI wrote secret.key.new and re-sealed, then died before replacing secret.key
    (data / "secret.key.new").write_text(NEW_SECRET + "\n")
    async with Store.open(settings.database_url) as store:
        await rotate(store, SECRET, NEW_SECRET)
    async with serving(tmp_path, mock.url, settings=settings_for(tmp_path, source="file")) as gateway:
        assert gateway.accounts.keyring().current.version == 2
        assert (await gateway.chat(bob, "mine")).status_code == 200
        done = await _rotate_cli(tmp_path, None)
        assert done.exit_code == 0, done.output
        assert (data / "secret.key").read_text().strip() == NEW_SECRET and not (data / "secret.key.new").exists()


async def test_swapped_ciphertexts_do_not_open(tmp_path: Path, mock: MockServer,
                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path)
    async with serving(tmp_path, mock.url, settings=settings) as gateway:
        bob = await gateway.member("bob@example.com")
        one = await gateway.credential(bob, "one", "sk-swap-one-1111")
        two = await gateway.credential(bob, "two", "sk-swap-two-2222")
        await gateway.credential(bob, "three", "sk-swap-three-3333")
        store = gateway.accounts.store
        first = (await store.credentials.sealed_by_id(one["id"])).sealed
        second = (await store.credentials.sealed_by_id(two["id"])).sealed
        async with store.engine.begin() as db:
            for target, sealed in ((one["id"], second), (two["id"], first)):
                await db.execute(update(credentials_table).where(credentials_table.c.id == target)
                                 .values(ciphertext=sealed.ciphertext, nonce=sealed.nonce))
    caplog.set_level(logging.ERROR, logger="byway.accounts")
    async with serving(tmp_path, mock.url, settings=settings) as again:
        for name in ("one", "two"):
            answer = await again.chat(bob, name)
            assert answer.status_code == 503 and answer.json()["error"]["code"] == "provider_disabled", answer.text
        assert (await again.chat(bob, "three")).status_code == 200
        assert len((await again.call("GET", "/api/credentials", bob)).json()["data"]) == 3
    logged = caplog.text
    assert f"credential {one['id']} ('one') cannot be used" in logged and "cannot decrypt" in logged
    assert "sk-swap" not in logged
