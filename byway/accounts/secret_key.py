"""The gateway's secret key: where it lives, opening the vault with it, and replacing it (rotation).

The secret comes from ``BYWAY_SECRET_KEY``, the config file, or a file in the data dir. Rotation
re-seals every credential under a new key while gateways keep serving, then records the new key where
the old one lived: for the data-dir file the new value is written next to it first
(``secret.key.new``), so a rotation cut short is finished by running it again, and a gateway starting
meanwhile opens the vault with both keys. For the environment or the config file the new value is
printed for the operator to put in place; a running gateway keeps serving on the credentials it
holds in memory until it is restarted with the new key.
"""

from __future__ import annotations

import os
import secrets as random
from pathlib import Path
from typing import Literal

import msgspec

from byway.store import ADMIN, Store
from byway.vault import MIN_SECRET_LENGTH, Keyring, Rotation, VaultError, fingerprint, rotate

Source = Literal["env", "config", "file"]
PENDING_SUFFIX = ".new"


class SecretKey(msgspec.Struct, frozen=True, kw_only=True):
    value: str
    source: Source
    path: Path | None = None  # the data-dir file, when the source is "file"

    def __repr__(self) -> str:
        return f"SecretKey(source={self.source!r}, path={self.path!r})"

    __str__ = __repr__

    @property
    def pending_path(self) -> Path | None:
        return self.path.with_name(self.path.name + PENDING_SUFFIX) if self.path is not None else None

    def pending(self) -> str | None:
        """The new secret of a rotation that has not finished, if any."""
        path = self.pending_path
        if path is None or not path.exists():
            return None
        value = path.read_text().strip()
        return value or None

    def reread(self) -> SecretKey:
        """The secret as its file holds it now (the same for other sources, which only a restart changes)."""
        if self.path is None:
            return self
        value = self.path.read_text().strip()
        return self if not value or value == self.value else msgspec.structs.replace(self, value=value)


def write_private(path: Path, value: str) -> None:
    """Write ``value`` to ``path`` (mode 0600) atomically: readers see the old or the new file, whole."""
    temporary = path.with_name(f".{path.name}.{random.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


async def open_keyring(store: Store, secret: SecretKey) -> Keyring:
    """The keyring for the database; during an unfinished rotation it holds the new key and the old."""
    pending = secret.pending()
    if pending is not None and pending != secret.value and await store.vault_keys.find(fingerprint(pending)):
        return await Keyring.load(store, pending, previous_secret=secret.value)
    return await Keyring.load(store, secret.value)


class Rotated(msgspec.Struct, frozen=True, kw_only=True):
    rotation: Rotation
    new_secret: str
    recorded: bool  # True: written to the data-dir file; False: the operator must put it in place

    def __repr__(self) -> str:
        return f"Rotated({self.rotation!r}, recorded={self.recorded})"

    __str__ = __repr__


async def rotate_secret(store: Store, secret: SecretKey, new_secret: str | None = None) -> Rotated:
    """Re-seal every credential under ``new_secret`` (or a generated one, or the pending one of a rotation
    cut short) and record it; an audit entry tells running gateways to switch keys."""
    pending = secret.pending_path
    if pending is not None and secret.pending() == secret.value:
        pending.unlink()  # a rotation that finished but for removing its side file
    new = new_secret or secret.pending() or random.token_urlsafe(48)
    if len(new) < MIN_SECRET_LENGTH:
        raise VaultError(f"the new secret key must be at least {MIN_SECRET_LENGTH} characters")
    if pending is not None:
        write_private(pending, new)
    rotation = await rotate(store, secret.value, new)
    recorded = False
    if secret.path is not None and pending is not None:
        write_private(secret.path, new)
        pending.unlink(missing_ok=True)
        recorded = True
    await store.audit.record(ADMIN, "vault.rotate", "vault", str(rotation.new_version),
                             {"old_version": rotation.old_version, "resealed": rotation.resealed})
    return Rotated(rotation=rotation, new_secret=new, recorded=recorded)
