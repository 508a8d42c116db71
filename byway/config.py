"""The gateway's configuration: a YAML file, ``env:NAME`` values, and provider keys
found in the usual environment variables."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from byway.providers.catalog import SPECS
from byway.providers.config import ProviderConfig, ProviderType
from byway.routing.breaker import BreakerConfig
from byway.routing.retry import RetryPolicy


class ConfigError(Exception):
    """A configuration problem, described in one line that names the field."""


class RouteConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    targets: list[str]
    mode: Literal["fallback", "pooled", "exclusive", "off"] = "fallback"
    strategy: Literal["weighted", "least_latency", "cheapest", "round_robin"] = "weighted"
    retries: int = 0


class GatewayConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    database_url: str | None = None
    redis_url: str | None = None
    master_key: str | None = None
    secret_key: str | None = None
    data_dir: str | None = None
    providers: list[ProviderConfig] = msgspec.field(default_factory=list)
    routes: list[RouteConfig] = msgspec.field(default_factory=list)
    allow_private_base_urls: bool = False
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    circuit_breaker: BreakerConfig = msgspec.field(default_factory=BreakerConfig)
    health_check_interval: float = 0.0  # seconds between active checks of every provider; 0: off
    # fetching image URLs for providers that take image bytes only
    allow_private_image_urls: bool = False
    image_max_bytes: int = 20 * 1024 * 1024
    image_fetch_timeout: float = 10.0
    alert_webhook_url: str | None = None  # budget alerts are POSTed here as JSON (see byway.server.alerts)
    # what a budget reserves for the answer of a request that sets no max_tokens
    default_max_output_tokens: Annotated[int, msgspec.Meta(ge=1)] = 4096


def _resolve_env(value: Any, path: str) -> Any:
    """Replace every ``env:NAME`` string with that variable's value."""
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:].strip()
        if name not in os.environ:
            raise ConfigError(f"config error: {path}: environment variable {name} is not set")
        return os.environ[name]
    if isinstance(value, dict):
        return {k: _resolve_env(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


_PATH = re.compile(r" - at `\$\.?(.*)`$")


def _describe(error: msgspec.ValidationError) -> str:
    text = str(error)
    match = _PATH.search(text)
    where = match.group(1) if match else ""
    what = _PATH.sub("", text)
    what = what[0].lower() + what[1:] if what else what
    if "type" in where.rsplit(".", 1)[-1] and "Invalid enum value" in text:
        what += " (one of: " + ", ".join(t.value for t in ProviderType) + ")"
    return f"config error: {where}: {what}" if where else f"config error: {what}"


def parse_config(data: Any) -> GatewayConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("config error: the file must hold a mapping of settings")
    data = _resolve_env(data, "")
    try:
        config = msgspec.convert(data, GatewayConfig, str_keys=True)
    except msgspec.ValidationError as e:
        raise ConfigError(_describe(e)) from None
    _check(config)
    return config


def load_config(path: str | os.PathLike[str] | None) -> GatewayConfig:
    """Read the config file at ``path`` (None: no file), then add providers from the environment."""
    if path is None:
        config = GatewayConfig()
    else:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise ConfigError(f"config error: cannot read {path}: {e.strerror}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"config error: {path} is not valid YAML{where}") from None
        config = parse_config(data)
    config.providers.extend(providers_from_env(os.environ, {p.name for p in config.providers}))
    return config


def _check(config: GatewayConfig) -> None:
    seen: set[str] = set()
    for i, p in enumerate(config.providers):
        where = f"providers[{i}]"
        if ":" in p.name:
            raise ConfigError(f"config error: {where}.name: {p.name!r} may not contain ':'")
        if p.name in seen:
            raise ConfigError(f"config error: {where}.name: {p.name!r} is used twice")
        seen.add(p.name)
        spec = SPECS[p.provider_type]
        if not p.base_url and spec.default_base_url is None and p.provider_type not in (
                ProviderType.BEDROCK, ProviderType.VERTEX):
            raise ConfigError(f"config error: {where}.base_url: required for type {p.provider_type.value}")
        if p.base_url and not p.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"config error: {where}.base_url: must start with http:// or https://")
        for field in ("timeout", "connect_timeout", "idle_timeout"):
            value = getattr(p, field)
            if value is not None and value <= 0:
                raise ConfigError(f"config error: {where}.{field}: must be positive")
        if p.retries < 0:
            raise ConfigError(f"config error: {where}.retries: must not be negative")
    for i, r in enumerate(config.routes):
        where = f"routes[{i}]"
        if r.name in seen:
            raise ConfigError(f"config error: {where}.name: {r.name!r} is also a provider name")
        if not r.targets:
            raise ConfigError(f"config error: {where}.targets: at least one target is required")
        for j, target in enumerate(r.targets):
            name, sep, model = target.partition(":")
            if not sep or not model or name not in seen:
                raise ConfigError(f"config error: {where}.targets[{j}]: {target!r} is not provider:model "
                                  "with a provider defined above")
        if r.retries < 0:
            raise ConfigError(f"config error: {where}.retries: must be 0 or more")
    if config.alert_webhook_url is not None and not config.alert_webhook_url.startswith(("http://", "https://")):
        raise ConfigError("config error: alert_webhook_url: must start with http:// or https://")
    if config.secret_key is not None and len(config.secret_key) < 32:
        raise ConfigError("config error: secret_key: must be at least 32 characters")


def providers_from_env(environ: dict[str, str] | os._Environ[str], taken: set[str]) -> list[ProviderConfig]:
    """Shared providers for the keys found in the usual environment variables."""
    found: list[ProviderConfig] = []
    for spec in SPECS.values():
        name = spec.type.value
        if name in taken:
            continue
        if spec.type is ProviderType.AZURE:
            key, endpoint = environ.get("AZURE_OPENAI_API_KEY"), environ.get("AZURE_OPENAI_ENDPOINT")
            if key and endpoint:
                found.append(ProviderConfig(provider_type=spec.type, api_key=key, base_url=endpoint,
                                            api_version=environ.get("OPENAI_API_VERSION")))
        elif spec.type is ProviderType.BEDROCK:
            kid, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
            if kid and secret and (environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")):
                found.append(ProviderConfig(
                    provider_type=spec.type, aws_access_key_id=kid, aws_secret_access_key=secret,
                    aws_session_token=environ.get("AWS_SESSION_TOKEN"),
                    region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")))
        elif spec.type is ProviderType.VERTEX:
            creds, project = environ.get("GOOGLE_APPLICATION_CREDENTIALS"), environ.get("GOOGLE_CLOUD_PROJECT")
            if creds and project:
                found.append(ProviderConfig(provider_type=spec.type, credentials_file=creds, project=project,
                                            location=environ.get("GOOGLE_CLOUD_LOCATION", "us-central1")))
        elif spec.type is ProviderType.OLLAMA:
            url = environ.get("OLLAMA_BASE_URL")
            if url:
                base = url.rstrip("/")
                found.append(ProviderConfig(provider_type=spec.type,
                                            base_url=base if base.endswith("/v1") else base + "/v1"))
        else:
            key = next((environ[v] for v in spec.api_key_env if environ.get(v)), None)
            if key:
                found.append(ProviderConfig(provider_type=spec.type, api_key=key))
    return found
