"""Building the server application from a config file and the environment."""

from __future__ import annotations

import os

from byway.config import load_config
from byway.engine import Engine
from byway.server.app import App, create_app
from byway.server.auth import MasterKey
from byway.server.bootstrap import settle


def build(config_path: str | None) -> App:
    config = load_config(config_path)
    settings = settle(config)
    return create_app(Engine.from_config(config), MasterKey(settings.master_key), settings.database_url)


def from_environment() -> App:
    """The uvicorn factory for multi-worker serving: the config path comes in ``BYWAY_CONFIG``."""
    return build(os.environ.get("BYWAY_CONFIG") or None)
