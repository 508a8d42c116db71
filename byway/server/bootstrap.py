"""First start: where data lives, and the master and secret keys (generated once, kept in
files of mode 0600 in the data dir, overridable from the environment)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import msgspec

from byway.accounts.secret_key import SecretKey, Source
from byway.config import ConfigError, GatewayConfig

MASTER_KEY_FILE = "master.key"
SECRET_KEY_FILE = "secret.key"


class Settings(msgspec.Struct, kw_only=True):
    data_dir: Path
    database_url: str
    master_key: str
    secret_key: str
    master_key_generated: bool = False
    secret_source: Source = "file"  # where the secret key lives: env, config, or the data-dir file

    def __repr__(self) -> str:
        return f"Settings(data_dir={self.data_dir!r}, secret_source={self.secret_source!r})"

    __str__ = __repr__

    @property
    def secret(self) -> SecretKey:
        path = self.data_dir / SECRET_KEY_FILE if self.secret_source == "file" else None
        return SecretKey(value=self.secret_key, source=self.secret_source, path=path)


def _read_or_create(path: Path, make: str) -> tuple[str, bool]:
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value, False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(make + "\n")
    os.chmod(path, 0o600)
    return make, True


def settle(config: GatewayConfig, environ: os._Environ[str] | dict[str, str] = os.environ) -> Settings:
    """Decide the data dir, database and keys, creating what is missing."""
    data_dir = Path(environ.get("BYWAY_DATA_DIR") or config.data_dir or "byway-data").resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"config error: data_dir: cannot create {data_dir}: {e.strerror}") from None
    database_url = environ.get("BYWAY_DATABASE_URL") or config.database_url or f"sqlite:///{data_dir / 'byway.db'}"
    generated = False
    master = environ.get("BYWAY_MASTER_KEY") or config.master_key
    if not master:
        master, generated = _read_or_create(data_dir / MASTER_KEY_FILE, "byw-master-" + secrets.token_urlsafe(32))
    secret = environ.get("BYWAY_SECRET_KEY") or config.secret_key
    source: Source = "env" if environ.get("BYWAY_SECRET_KEY") else "config"
    if not secret:
        secret, _ = _read_or_create(data_dir / SECRET_KEY_FILE, secrets.token_urlsafe(48))
        source = "file"
    if len(secret) < 32:
        raise ConfigError("config error: secret_key: must be at least 32 characters")
    if len(master) < 16:
        raise ConfigError("config error: master_key: must be at least 16 characters")
    return Settings(data_dir=data_dir, database_url=database_url, master_key=master, secret_key=secret,
                    master_key_generated=generated, secret_source=source)


def announce(settings: Settings) -> None:
    """Print a newly generated master key, once."""
    if settings.master_key_generated:
        print(f"byway: generated a master key (saved in {settings.data_dir / MASTER_KEY_FILE}, shown only now):\n"
              f"  {settings.master_key}", file=sys.stderr, flush=True)
