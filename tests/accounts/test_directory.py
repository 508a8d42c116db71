"""The in-memory directory the request path reads: key lookup, principals, and each caller's view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from byway.accounts.directory import Directory, Loaded
from byway.accounts.provider import provider_config
from byway.core import AuthenticationError
from byway.core.principal import Principal
from byway.providers.config import ProviderConfig
from byway.store import GatewayKey, Preferences, User
from byway.store.keys import display_hint, hash_key
from byway.vault import Secret
from tests.accounts.records import credential

NOW = datetime.now(UTC)
MASTER = Principal(id="master", kind="master", role="admin")


def user(user_id: str, role: str = "member", active: bool = True) -> User:
    return User(id=user_id, email=f"{user_id}@example.com", role=role, monthly_budget=None,  # type: ignore[arg-type]
                is_active=active, created_at=NOW)


def key(key_id: str, owner: str, plaintext: str, **fields: object) -> GatewayKey:
    values: dict[str, object] = dict(id=key_id, user_id=owner, name=key_id, key_hash=hash_key(plaintext),
                                     hint=display_hint(plaintext), created_at=NOW, expires_at=None, revoked_at=None,
                                     allowed_models=None, monthly_budget=None, rpm_limit=None, tpm_limit=None,
                                     last_used_at=None)
    values.update(fields)
    return GatewayKey(**values)  # type: ignore[arg-type]


def loaded(name: str, owner: str | None, **fields: object) -> Loaded:
    c = credential(name, user_id=owner, **fields)
    return Loaded(c, provider_config(c, Secret.api_key(f"sk-{name}")))


@pytest.fixture
def directory() -> Directory:
    d = Directory()
    d.put_user(user("usr_bob"))
    d.put_user(user("usr_ann", role="admin"))
    d.put_key(key("key_bob", "usr_bob", "byw-bob-key", allowed_models=["mine:*"]))
    d.put_key(key("key_ann", "usr_ann", "byw-ann-key"))
    d.put_credential(loaded("mine", "usr_bob", is_default=True))
    d.put_credential(loaded("house", None))
    d.put_credential(loaded("team", "usr_ann", shared=True))
    d.put_preferences("usr_bob", Preferences(max_tokens_per_request=64))
    d.refresh()
    return d


def test_keys_resolve_to_their_users_principal(directory: Directory) -> None:
    bob = directory.authenticate("byw-bob-key")
    assert bob == Principal(id="key_bob", kind="key", role="member", user_id="usr_bob", name="key_bob",
                            allowed_models=frozenset({"mine:*"}), default_provider="mine")
    assert directory.authenticate("byw-ann-key").role == "admin"  # type: ignore[union-attr]
    assert directory.authenticate("byw-nobody") is None
    assert directory.authenticate("sk-not-a-gateway-key") is None
    assert set(directory.used) == {"key_bob", "key_ann"}


def test_views_hold_own_then_shared_and_the_gateways_own_for_the_master_key(directory: Directory) -> None:
    bob = directory.personal(directory.authenticate("byw-bob-key"))  # type: ignore[arg-type]
    assert [o.provider.name for o in bob.ordered] == ["mine", "team"] and bob.max_tokens == 64  # type: ignore[union-attr]
    ann = directory.personal(directory.authenticate("byw-ann-key"))  # type: ignore[arg-type]
    assert [o.provider.name for o in ann.ordered] == ["team"]  # type: ignore[union-attr]
    master = directory.personal(MASTER)
    assert [o.provider.name for o in master.ordered] == ["house", "team"]  # type: ignore[union-attr]
    assert directory.personal(Principal(id="lib", kind="library")) is None


def test_revoked_expired_and_deactivated_keys_say_why(directory: Directory) -> None:
    directory.put_key(key("key_bob", "usr_bob", "byw-bob-key", revoked_at=NOW))
    directory.put_key(key("key_old", "usr_bob", "byw-old-key", expires_at=NOW - timedelta(seconds=1)))
    directory.refresh()
    with pytest.raises(AuthenticationError, match="revoked"):
        directory.authenticate("byw-bob-key")
    with pytest.raises(AuthenticationError, match="expired"):
        directory.authenticate("byw-old-key")
    directory.put_user(user("usr_ann", role="admin", active=False))
    directory.refresh()
    with pytest.raises(AuthenticationError, match="deactivated"):
        directory.authenticate("byw-ann-key")


def test_changes_rebuild_only_what_they_touch_and_deleting_a_user_drops_everything(directory: Directory) -> None:
    before = directory.authenticate("byw-ann-key")
    directory.put_preferences("usr_bob", Preferences(default_provider="team"))
    directory.refresh()
    assert directory.authenticate("byw-bob-key").default_provider == "team"  # type: ignore[union-attr]
    assert directory.authenticate("byw-ann-key") is before  # untouched
    directory.drop_credential("cred_team")  # a shared one: every view changes
    directory.refresh()
    assert [o.provider.name for o in directory.personal(MASTER).ordered] == ["house"]  # type: ignore[union-attr]
    directory.drop_user("usr_bob")
    directory.refresh()
    assert directory.authenticate("byw-bob-key") is None
    assert "cred_mine" not in directory.credentials and "key_bob" not in directory.keys


def test_the_guard_is_told_about_every_connection() -> None:
    added: list[ProviderConfig] = []
    removed: list[ProviderConfig] = []
    d = Directory(on_added=added.append, on_removed=removed.append)
    d.put_credential(loaded("one", "usr_bob"))
    first = added[-1]
    d.put_credential(loaded("one", "usr_bob"))  # changed: the old connection goes, the new one comes
    assert removed == [first] and len(added) == 2
    d.put_credential(Loaded(credential("broken"), None, "cannot decrypt"))
    assert len(added) == 2  # nothing to connect with
    d.clear()
    assert len(removed) == 2 and d.credentials == {}


def test_one_default_per_owner_as_in_the_store(directory: Directory) -> None:
    directory.put_credential(loaded("second", "usr_bob", is_default=True))
    directory.refresh()
    assert directory.authenticate("byw-bob-key").default_provider == "second"  # type: ignore[union-attr]
    assert directory.credentials["cred_mine"].credential.is_default is False
    directory.put_credential(loaded("second", "usr_bob", is_default=False))
    directory.refresh()
    assert directory.authenticate("byw-bob-key").default_provider is None  # type: ignore[union-attr]
