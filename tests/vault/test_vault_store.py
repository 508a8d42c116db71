"""Credentials through the vault on a real database: secrets only ever reach it encrypted, open only
for their owner (or an admin) and only in their own row."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from sqlalchemy import String, cast, select, update
from sqlalchemy.engine import make_url

from byway.store import ADMIN, As, NewCredential, Store
from byway.store.schema import credentials
from byway.vault import CredentialVault, Keyring, Secret, VaultError
from tests.store.postgres import PostgresServer

SECRET_KEY = "gateway-secret-key-0123456789-abcdefghij"
OPENAI_KEY = "sk-proj-PLAINTEXT0penAIkeyThatMustNeverBeStored-a1b2"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLAINTEXTKEY"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANPLAINTEXTPRIVATEKEYMATERIAL\n-----END PRIVATE KEY-----\n"
SERVICE_ACCOUNT = msgspec.json.encode({"type": "service_account", "project_id": "proj-1",
                                       "private_key_id": "0f1e2d3c4b5a69788796", "private_key": PRIVATE_KEY,
                                       "client_email": "byway@proj-1.iam.gserviceaccount.com",
                                       "token_uri": "https://oauth2.googleapis.com/token"}).decode()
NEEDLES = [OPENAI_KEY, "PLAINTEXT0penAI", AWS_SECRET, "PLAINTEXTKEY", "PLAINTEXTPRIVATEKEY", "FwoGZXIvYXdzEPLAIN"]


@pytest.fixture
async def vault(store: Store) -> CredentialVault:
    return CredentialVault(store, await Keyring.load(store, SECRET_KEY))


async def _fill(vault: CredentialVault, owner: str | None) -> dict[str, str]:
    made = {}
    for name, provider_type, secret, extra in [
        ("prod-openai", "openai", Secret.api_key(OPENAI_KEY), None),
        ("aws", "bedrock", Secret({"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": AWS_SECRET,
                                   "aws_session_token": "FwoGZXIvYXdzEPLAIN"}), {"region": "eu-west-1"}),
        ("gcp", "vertex", Secret({"credentials_json": SERVICE_ACCOUNT}), {"project": "proj-1", "location": "us-c1"}),
    ]:
        credential = await vault.add(NewCredential(provider_type=provider_type, name=name, user_id=owner, extra=extra),
                                     secret)
        made[name] = credential.id
    return made


async def test_add_reveal_and_replace(vault: CredentialVault, store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    made = await _fill(vault, ada.id)
    me = As("member", ada.id)
    listed = {c.name: c for c in await store.credentials.list(me)}
    assert {n: c.key_hint for n, c in listed.items()} == {"prod-openai": "sk-p…a1b2", "aws": "AKIA…MPLE",
                                                          "gcp": "0f1e…8796"}
    assert listed["aws"].extra == {"region": "eu-west-1"}
    assert await vault.reveal(me, made["prod-openai"]) == Secret.api_key(OPENAI_KEY)
    aws = await vault.reveal(me, made["aws"])
    assert aws is not None and aws["aws_secret_access_key"] == AWS_SECRET
    gcp = await vault.reveal(ADMIN, made["gcp"])
    assert gcp is not None and msgspec.json.decode(gcp["credentials_json"])["private_key"] == PRIVATE_KEY
    changed = await vault.replace(me, made["prod-openai"], Secret.api_key("sk-new-0000000000000000-zz99"))
    assert changed is not None and changed.key_hint == "sk-n…zz99"
    assert await vault.reveal(me, made["prod-openai"]) == Secret.api_key("sk-new-0000000000000000-zz99")
    opened = {c.name: s for c, s in await vault.open_all()}
    assert opened["prod-openai"]["api_key"] == "sk-new-0000000000000000-zz99"
    assert opened["aws"]["aws_access_key_id"] == "AKIAIOSFODNN7EXAMPLE"


async def test_other_members_and_sharing_never_reveal_a_secret(vault: CredentialVault, store: Store) -> None:
    admin = await store.users.create("admin@example.com", role="admin")
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    theirs = (await _fill(vault, b.id))["prod-openai"]
    shared = await vault.add(NewCredential(provider_type="openai", name="company", user_id=admin.id, shared=True),
                             Secret.api_key("sk-company-key-0123456789"))
    member_a = As("member", a.id)
    assert await vault.reveal(member_a, theirs) is None
    assert await vault.replace(member_a, theirs, Secret.api_key("sk-hijack-0123456789")) is None
    assert await vault.reveal(As("member", b.id), theirs) == Secret.api_key(OPENAI_KEY)
    assert await store.credentials.get(member_a, shared.id) is not None
    assert await vault.reveal(member_a, shared.id) is None
    assert await vault.reveal(As("admin", admin.id), shared.id) == Secret.api_key("sk-company-key-0123456789")


async def test_ciphertext_swapped_between_rows_fails_to_decrypt(vault: CredentialVault, store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    first = await vault.add(NewCredential(provider_type="openai", name="one", user_id=ada.id),
                            Secret.api_key("sk-one-0123456789abcdef"))
    second = await vault.add(NewCredential(provider_type="openai", name="two", user_id=ada.id),
                             Secret.api_key("sk-two-0123456789abcdef"))
    a = await store.credentials.sealed_by_id(first.id)
    b = await store.credentials.sealed_by_id(second.id)
    assert a is not None and b is not None
    async with store.engine.begin() as db:
        for target, source in ((first.id, b.sealed), (second.id, a.sealed)):
            await db.execute(update(credentials).where(credentials.c.id == target)
                             .values(ciphertext=source.ciphertext, nonce=source.nonce))
    for moved in (first.id, second.id):
        with pytest.raises(VaultError, match=f"credential {moved}: cannot decrypt"):
            await vault.reveal(ADMIN, moved)
    with pytest.raises(VaultError):
        await vault.open_all()


async def test_no_plaintext_secret_anywhere_in_the_database(vault: CredentialVault, store: Store,
                                                             database_url: str, request: pytest.FixtureRequest) -> None:
    ada = await store.users.create("ada@example.com")
    await _fill(vault, ada.id)
    await _fill(vault, None)
    async with store.engine.connect() as db:
        columns = [cast(c, String) for c in credentials.c if c.name not in ("ciphertext", "nonce")]
        text_rows = (await db.execute(select(*columns))).all()
        raw_rows = (await db.execute(select(credentials))).all()
    everything = "\n".join(str(v) for row in text_rows for v in row) + "\n".join(repr(tuple(r)) for r in raw_rows)
    assert "prod-openai" in everything and "sk-p…a1b2" in everything
    for needle in NEEDLES:
        assert needle not in everything

    if database_url.startswith("sqlite"):
        await store.close()  # checkpoint the WAL into the main file
        path = Path(make_url(database_url).database or "")
        files = sorted(path.parent.glob(path.name + "*"))
        dump = b"".join(f.read_bytes() for f in files)
        assert path in files
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        dump = server.pg_dump(make_url(database_url).username or "")
    assert b"prod-openai" in dump and b"AKIA" in dump  # the rows are there...
    for needle in NEEDLES:
        assert needle.encode() not in dump  # ...their secrets are not


async def test_first_start_registers_the_secret_and_a_wrong_one_is_refused(store: Store) -> None:
    ring = await Keyring.load(store, SECRET_KEY)
    assert ring.current.version == 1 and ring.previous is None
    assert (await Keyring.load(store, SECRET_KEY)).current.version == 1
    # with nothing sealed yet, a different secret is simply adopted as the next version
    assert (await Keyring.load(store, "another-secret-key-0123456789-abcdefghij")).current.version == 2
    vault = CredentialVault(store, await Keyring.load(store, SECRET_KEY))
    await vault.add(NewCredential(provider_type="openai", name="x", user_id=None), Secret.api_key("sk-x-0123456789ab"))
    with pytest.raises(VaultError, match="not one this database knows"):
        await Keyring.load(store, "a-typo-in-the-secret-key-0123456789-abcd")
    with pytest.raises(VaultError, match="at least 32"):
        await Keyring.load(store, "short")
    assert [v.version for v in await store.vault_keys.all()] == [1, 2]


async def test_a_restarted_gateway_opens_every_secret_with_the_same_secret_key(database_url: str) -> None:
    async with Store.open(database_url) as first:
        vault = CredentialVault(first, await Keyring.load(first, SECRET_KEY))
        ada = await first.users.create("ada@example.com")
        made = await _fill(vault, ada.id)
        before = await vault.open_all()
    async with Store.open(database_url) as second:
        vault = CredentialVault(second, await Keyring.load(second, SECRET_KEY))
        assert await vault.open_all() == before
        assert await vault.reveal(As("member", ada.id), made["prod-openai"]) == Secret.api_key(OPENAI_KEY)
        assert len(before) == 3
