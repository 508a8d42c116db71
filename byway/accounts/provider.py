"""A stored credential as the engine uses it: a ``ProviderConfig`` holding the decrypted secret.

Built once when the credential is loaded or changes, never per request. The credential's own price
(``cost_per_1k_input``/``output``) applies to every model it serves, so it becomes a price table that
answers the same rates for any model name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from byway.providers.config import ModelPrice, ProviderConfig, ProviderType
from byway.routing.targets import Defaults, Offered
from byway.store import Credential
from byway.vault import Secret

VALIDATION_TIMEOUT = 15.0
_THOUSAND = Decimal(1000)


class EveryModel(Mapping[str, ModelPrice]):
    """A price table with one price for every model (what ``PriceBook`` reads from ``ProviderConfig.prices``)."""

    __slots__ = ("price",)

    def __init__(self, price: ModelPrice) -> None:
        self.price = price

    def __getitem__(self, model: str) -> ModelPrice:
        return self.price

    def __contains__(self, model: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(("*",))

    def __len__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return f"EveryModel({self.price!r})"


def credential_price(input_per_1k: Decimal | None, output_per_1k: Decimal | None) -> EveryModel | None:
    if input_per_1k is None or output_per_1k is None:
        return None
    return EveryModel(ModelPrice(input=input_per_1k * _THOUSAND, output=output_per_1k * _THOUSAND))


def connection(provider_type: str, name: str, secret: Mapping[str, str], *, base_url: str | None,
               extra: Mapping[str, Any] | None, models: list[str] | None = None, priority: int = 100,
               enabled: bool = True, timeout: float = 120.0) -> ProviderConfig:
    """The provider connection for a credential's fields (also used to check a key before storing it)."""
    extra = extra or {}
    return ProviderConfig(
        provider_type=ProviderType(provider_type), name=name, api_key=secret.get("api_key"), base_url=base_url,
        models=models, priority=priority, enabled=enabled, timeout=timeout, api_version=extra.get("api_version"),
        api=extra.get("api"), aws_access_key_id=secret.get("aws_access_key_id"),
        aws_secret_access_key=secret.get("aws_secret_access_key"),
        aws_session_token=secret.get("aws_session_token"), region=extra.get("region"),
        project=extra.get("project"), location=extra.get("location"),
        credentials_json=secret.get("credentials_json"))


def provider_config(credential: Credential, secret: Secret) -> ProviderConfig:
    c = credential
    provider = connection(c.provider_type, c.name, secret, base_url=c.base_url, extra=c.extra, models=c.models,
                          priority=c.priority, enabled=c.is_active)
    provider.connection_id = f"credential:{c.id}"
    provider.owner = c.user_id
    provider.rpm_limit = c.rate_limit_rpm
    provider.tpm_limit = c.rate_limit_tpm
    provider.monthly_budget = c.monthly_budget
    prices = credential_price(c.cost_per_1k_input, c.cost_per_1k_output)
    if prices is not None:
        provider.prices = prices  # type: ignore[assignment]  # a Mapping that prices every model alike
    return provider


def unusable(credential: Credential) -> ProviderConfig:
    """A stand-in for a credential whose secret will not open: switched off, so naming it answers 503
    (``provider_disabled``) instead of pretending it does not exist to its owner."""
    c = credential
    return connection(c.provider_type, c.name, {}, base_url=c.base_url, extra=c.extra, models=c.models,
                      priority=c.priority, enabled=False)


def offered(credential: Credential, provider: ProviderConfig) -> Offered:
    """The credential as the router looks through it."""
    c = credential
    catalogue = tuple(c.models) if c.models else ((c.model,) if c.model else ())
    defaults = None
    if c.temperature is not None or c.top_p is not None or c.max_tokens is not None:
        defaults = Defaults(temperature=c.temperature, top_p=c.top_p, max_tokens=c.max_tokens)
    return Offered(provider=provider, model=c.model, catalogue=catalogue, defaults=defaults)
