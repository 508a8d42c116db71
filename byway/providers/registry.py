"""Which adapter speaks for a provider type. One adapter instance per type, made on first use."""

from __future__ import annotations

from byway.core import InvalidRequestError
from byway.providers.base import Adapter
from byway.providers.catalog import SPECS
from byway.providers.config import ProviderType

_ADAPTERS: dict[ProviderType, Adapter] = {}


def adapter_for(provider_type: ProviderType | str) -> Adapter:
    try:
        kind = ProviderType(provider_type)
    except ValueError:
        raise InvalidRequestError(f"unknown provider type {provider_type!r}", param="type") from None
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = _make(kind)
    return adapter


def _make(kind: ProviderType) -> Adapter:
    spec = SPECS[kind]
    if spec.family == "openai":
        from byway.providers.openai import OpenAIAdapter

        return OpenAIAdapter(spec)
    if spec.family == "anthropic":
        from byway.providers.anthropic import AnthropicAdapter  # written alongside; imported when first needed

        return AnthropicAdapter(spec)
    raise InvalidRequestError(f"provider type {kind.value} is not supported yet", param="type")
