"""The accounts the request path reads, all in memory: users, gateway keys by hash, credentials as
decrypted provider connections, and preferences.

Nothing here awaits. The change feed (``feed``) puts rows in and removes them; ``refresh()`` then
rebuilds, for the users touched, the principal of each of their keys and the ``Personal`` view the
router looks through. A request reads a dict or two: ``authenticate`` hashes the presented key and
finds its entry, ``personal`` finds the caller's view.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

import msgspec

from byway.accounts.provider import offered, unusable
from byway.core import AuthenticationError
from byway.core.principal import Limit, Principal
from byway.providers.config import ProviderConfig
from byway.routing.targets import Offered, Personal
from byway.store import Credential, GatewayKey, Preferences, User
from byway.store.keys import KEY_PREFIX

log = logging.getLogger("byway.accounts")

GATEWAY = None  # the owner of the gateway's own credentials (made with the master key)


class Loaded:
    """A credential as loaded: its row and its provider connection (None when its secret would not open,
    and then ``problem`` says why)."""

    __slots__ = ("credential", "problem", "provider", "routed")

    def __init__(self, credential: Credential, provider: ProviderConfig | None, problem: str | None = None) -> None:
        self.credential = credential
        self.provider = provider
        self.problem = problem
        self.routed = provider if provider is not None else unusable(credential)  # what the router is given


class KeyEntry:
    __slots__ = ("expires", "key_id", "principal", "problem")

    def __init__(self, key_id: str, principal: Principal, expires: float | None, problem: str | None) -> None:
        self.key_id = key_id
        self.principal = principal
        self.expires = expires
        self.problem = problem


class Directory:
    """Implements the server's ``Authenticator`` for gateway keys, and the router's personal lookup."""

    def __init__(self, on_added: Callable[[ProviderConfig], None] | None = None,
                 on_removed: Callable[[ProviderConfig], None] | None = None) -> None:
        self._on_added = on_added
        self._on_removed = on_removed
        self._empty()

    def _empty(self) -> None:
        self.users: dict[str, User] = {}
        self.keys: dict[str, GatewayKey] = {}
        self.credentials: dict[str, Loaded] = {}
        self.preferences: dict[str, Preferences] = {}
        self.used: dict[str, float] = {}  # key id -> when last presented (epoch seconds), drained by the feed
        self._by_hash: dict[str, KeyEntry] = {}
        self._hash_of: dict[str, str] = {}  # key id -> its hash
        self._keys_of: dict[str, set[str]] = {}  # user id -> key ids
        self._personal: dict[str | None, Personal] = {}
        self._owned: dict[str | None, set[str]] = {}  # owner -> credential ids
        self._shared: set[str] = set()
        self._dirty: set[str | None] = set()
        self._all_dirty = False

    # --- the request path -----------------------------------------------------------------------------

    def authenticate(self, key: str) -> Principal | None:
        if not key.startswith(KEY_PREFIX):
            return None
        entry = self._by_hash.get(hashlib.sha256(key.encode()).hexdigest())
        if entry is None:
            return None
        if entry.problem is not None:
            raise AuthenticationError(entry.problem)
        now = time.time()
        if entry.expires is not None and now >= entry.expires:
            raise AuthenticationError("this API key has expired")
        self.used[entry.key_id] = now
        return entry.principal

    def personal(self, principal: Principal) -> Personal | None:
        """The providers ``principal`` brings: its user's, or the gateway's own for the master key."""
        kind = principal.kind
        if kind == "key" or kind == "session":
            return self._personal.get(principal.user_id)
        if kind == "master":
            return self._personal.get(GATEWAY)
        return None

    # --- changes (from the feed) ----------------------------------------------------------------------

    def clear(self) -> None:
        for loaded in self.credentials.values():
            self._forget_provider(loaded)
        self._empty()

    def put_user(self, user: User) -> None:
        self.users[user.id] = user
        self._dirty.add(user.id)

    def drop_user(self, user_id: str) -> None:
        """A deleted user: their keys, credentials and preferences went with them."""
        self.users.pop(user_id, None)
        self.preferences.pop(user_id, None)
        for key_id in list(self._keys_of.get(user_id, ())):
            self.drop_key(key_id)
        for credential_id in list(self._owned.get(user_id, ())):
            self.drop_credential(credential_id)
        self._personal.pop(user_id, None)
        self._dirty.add(user_id)

    def put_key(self, key: GatewayKey) -> None:
        self.drop_key(key.id)
        self.keys[key.id] = key
        self._hash_of[key.id] = key.key_hash
        self._keys_of.setdefault(key.user_id, set()).add(key.id)
        self._dirty.add(key.user_id)

    def drop_key(self, key_id: str) -> None:
        key = self.keys.pop(key_id, None)
        digest = self._hash_of.pop(key_id, None)
        if digest is not None:
            self._by_hash.pop(digest, None)
        if key is not None:
            self._keys_of.get(key.user_id, set()).discard(key_id)
            self._dirty.add(key.user_id)

    def put_credential(self, loaded: Loaded) -> None:
        c = loaded.credential
        self.drop_credential(c.id)
        self.credentials[c.id] = loaded
        siblings = self._owned.setdefault(c.user_id, set())
        if c.is_default:  # as the store does: one default per owner, the newly marked one wins
            for other in siblings:
                sibling = self.credentials[other]
                if sibling.credential.is_default:
                    sibling.credential = msgspec.structs.replace(sibling.credential, is_default=False)
        siblings.add(c.id)
        if c.shared:
            self._shared.add(c.id)
            self._all_dirty = True
        self._dirty.add(c.user_id)
        if loaded.provider is not None and self._on_added is not None:
            self._on_added(loaded.provider)

    def drop_credential(self, credential_id: str) -> None:
        loaded = self.credentials.pop(credential_id, None)
        if loaded is None:
            return
        c = loaded.credential
        self._owned.get(c.user_id, set()).discard(c.id)
        if c.id in self._shared:
            self._shared.discard(c.id)
            self._all_dirty = True
        self._dirty.add(c.user_id)
        self._forget_provider(loaded)

    def put_preferences(self, user_id: str, prefs: Preferences) -> None:
        self.preferences[user_id] = prefs
        self._dirty.add(user_id)

    def refresh(self) -> None:
        """Rebuild the principals and views of the users changed since the last refresh."""
        owners: set[str | None] = (set(self.users) | {GATEWAY}) if self._all_dirty else self._dirty
        shared = self._ordered(self._shared)
        for owner in owners:
            self._rebuild(owner, shared)
        self._dirty = set()
        self._all_dirty = False

    # --- building -------------------------------------------------------------------------------------

    def _forget_provider(self, loaded: Loaded) -> None:
        if loaded.provider is not None and self._on_removed is not None:
            self._on_removed(loaded.provider)

    def _ordered(self, ids: set[str]) -> list[Loaded]:
        found = [self.credentials[i] for i in ids if i in self.credentials]
        found.sort(key=lambda x: (x.credential.priority, x.credential.created_at, x.credential.id))
        return found

    def _rebuild(self, owner: str | None, shared: list[Loaded]) -> None:
        own = self._ordered(self._owned.get(owner, set()))
        offers: list[Offered] = [offered(x.credential, x.routed) for x in own]
        offers += [offered(x.credential, x.routed) for x in shared if x.credential.user_id != owner]
        prefs = self.preferences.get(owner) if owner is not None else None
        cap = prefs.max_tokens_per_request if prefs is not None else None
        fallback = prefs.fallback_provider if prefs is not None and prefs.auto_switch_provider else None
        if offers or cap is not None or fallback is not None:
            self._personal[owner] = Personal(offers, cap, fallback)
        else:
            self._personal.pop(owner, None)
        if owner is None:
            return
        user = self.users.get(owner)
        default = prefs.default_provider if prefs is not None else None
        if default is None:
            default = next((x.credential.name for x in own if x.credential.is_default), None)
        alert_percent = prefs.quota_alert_percent if prefs is not None else 80
        for key_id in self._keys_of.get(owner, ()):
            self._index_key(self.keys[key_id], user, default, alert_percent)

    def _index_key(self, key: GatewayKey, user: User | None, default: str | None, alert_percent: int) -> None:
        self._by_hash.pop(key.key_hash, None)
        if user is None:
            return  # not loaded yet (or deleted): the key cannot be used
        problem = None
        if key.revoked_at is not None:
            problem = "this API key has been revoked"
        elif not user.is_active:
            problem = "this API key belongs to a deactivated user"
        allowed = frozenset(key.allowed_models) if key.allowed_models is not None else None
        principal = Principal(id=key.id, kind="key", role=user.role, user_id=user.id, name=key.name,
                              allowed_models=allowed, default_provider=default,
                              limits=_limits(user, key, alert_percent))
        expires = key.expires_at.timestamp() if key.expires_at is not None else None
        self._by_hash[key.key_hash] = KeyEntry(key.id, principal, expires, problem)

    def __repr__(self) -> str:
        return (f"Directory({len(self.users)} users, {len(self.keys)} keys, {len(self.credentials)} credentials, "
                f"{len(self.preferences)} preference sets)")


def _limits(user: User, key: GatewayKey, alert_percent: int) -> tuple[Limit, ...]:
    """The rate limits and budgets a key's requests go through: its user's and its own."""
    found = []
    for scope, rpm, tpm, budget in ((f"user:{user.id}", user.rpm_limit, user.tpm_limit, user.monthly_budget),
                                    (f"key:{key.id}", key.rpm_limit, key.tpm_limit, key.monthly_budget)):
        if rpm is not None or tpm is not None or budget is not None:
            found.append(Limit(scope=scope, rpm=rpm, tpm=tpm, monthly_budget=budget, alert_percent=alert_percent,
                               owner=user.id))
    return tuple(found)
