"""Building the server application from a config file and the environment: the engine, the accounts
(store, vault, in-memory directory) and how they meet — gateway keys authenticate through the
directory, and the router looks through each caller's credentials."""

from __future__ import annotations

import os

from aiohttp.abc import AbstractResolver

from byway.accounts import Accounts, BaseURLGuard, GuardedTransport
from byway.accounts.accounts import POLL_SECONDS
from byway.config import GatewayConfig, load_config
from byway.engine import Engine
from byway.providers.transport import Transport
from byway.server.app import App, create_app
from byway.server.auth import Chain, MasterKey
from byway.server.bootstrap import Settings, settle
from byway.server.metering import install_metering
from byway.store.url import async_url, is_memory


def accounts_for(config: GatewayConfig, settings: Settings, *, transport: Transport | None = None,
                 poll_seconds: float = POLL_SECONDS, resolver: AbstractResolver | None = None) -> Accounts:
    return Accounts(settings.database_url, settings.secret, transport=transport,
                    allow_private_base_urls=config.allow_private_base_urls,
                    config_providers=[p.name for p in config.providers], poll_seconds=poll_seconds,
                    guard=BaseURLGuard(config.allow_private_base_urls, resolver))


def build_app(config: GatewayConfig, settings: Settings, *, poll_seconds: float = POLL_SECONDS,
              resolver: AbstractResolver | None = None, writer_process: bool = False) -> App:
    """The gateway for ``config``. Users' credentials connect through the SSRF guard unless the config
    allows private base URLs; ``resolver`` replaces DNS for the guard (tests). ``writer_process``: usage
    records are stored by a process of their own (``byway serve``), not on this event loop."""
    transport = Transport() if config.allow_private_base_urls else GuardedTransport(resolver)
    engine = Engine.from_config(config, transport=transport)
    accounts = accounts_for(config, settings, transport=transport, poll_seconds=poll_seconds, resolver=resolver)
    engine.router.personal = accounts.directory.personal
    authenticator = Chain(MasterKey(settings.master_key), accounts.directory)
    app = create_app(engine, authenticator, settings.database_url, accounts)
    in_memory = is_memory(async_url(settings.database_url))  # only this process can reach it
    install_metering(app.gateway, settings.data_dir / "journal", alert_webhook_url=config.alert_webhook_url,
                     writer_database_url=settings.database_url if writer_process and not in_memory else None)
    return app


async def prepare(config: GatewayConfig, settings: Settings) -> None:
    """What ``byway serve`` does before serving, so a problem stops it with one clear line: bring the
    schema up to date, check the secret key opens the vault, make the first admin on a first start."""
    accounts = accounts_for(config, settings, poll_seconds=0)
    try:
        await accounts.open()
    finally:
        await accounts.close()


def build(config_path: str | None) -> App:
    config = load_config(config_path)
    return build_app(config, settle(config), writer_process=True)


def from_environment() -> App:
    """The uvicorn factory for multi-worker serving: the config path comes in ``BYWAY_CONFIG``."""
    return build(os.environ.get("BYWAY_CONFIG") or None)
