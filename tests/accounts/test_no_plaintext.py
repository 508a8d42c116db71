"""After the management API has added, changed, checked and used credentials and keys, the database
(SQLite files, or PostgreSQL as pg_dump writes it) holds none of the secrets: not in the credential rows,
not in the audit log's details, not in the key table."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from byway.mock import MockServer
from tests.accounts.conftest import MASTER, Gateway, serving
from tests.store.databases import blank_url, database_url, postgres

__all__ = ["blank_url", "database_url", "postgres"]

FIRST = "sk-plaintext-first-Z81YQ"
SECOND = "sk-plaintext-second-K33VN"
AWS_SECRET = "aws-plaintext-secret-J7HB2"


async def _exercise(gateway: Gateway) -> list[str]:
    bob = await gateway.member("bob@example.com")
    made = await gateway.credential(bob, "mine", FIRST)
    await gateway.call("PATCH", f"/api/credentials/{made['id']}", bob, json={"api_key": SECOND})
    await gateway.call("POST", f"/api/credentials/{made['id']}/test", bob)
    await gateway.call("POST", "/api/credentials", bob, json={
        "provider_type": "bedrock", "name": "aws", "aws_access_key_id": "AKIAPLAIN00000001",
        "aws_secret_access_key": AWS_SECRET, "region": "us-east-1", "base_url": gateway.mock_url + "/bedrock"})
    assert (await gateway.chat(bob, "mine")).status_code == 200
    assert (await gateway.chat(bob, "aws")).status_code == 200
    await gateway.accounts.feed.flush_used()
    return [FIRST, SECOND, AWS_SECRET, "AKIAPLAIN00000001", bob.key, MASTER]


async def test_no_plaintext_secret_in_the_database(tmp_path: Path, mock: MockServer, database_url: str,
                                                   request: pytest.FixtureRequest) -> None:
    async with serving(tmp_path, mock.url, database_url=database_url) as gateway:
        secrets = await _exercise(gateway)
    if database_url.startswith("sqlite"):
        files = sorted(Path(make_url(database_url).database or "").parent.glob("byway.db*"))
        dump = b"".join(f.read_bytes() for f in files)
    else:
        dump = request.getfixturevalue("postgres").pg_dump(make_url(database_url).username)
    assert b"bob@example.com" in dump and b"credential.update" in dump  # the data is there
    for secret in secrets:
        assert secret.encode() not in dump, secret
