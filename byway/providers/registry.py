"""Which adapter speaks for a provider type. One adapter instance per type, made on first use."""

from __future__ import annotations

import importlib

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


# wire family -> (module, adapter class); a module is imported when its first provider is used
_FAMILIES: dict[str, tuple[str, str]] = {
    "openai": ("byway.providers.openai", "OpenAIAdapter"),
    "anthropic": ("byway.providers.anthropic", "AnthropicAdapter"),
    "gemini": ("byway.providers.gemini", "GeminiAdapter"),
    "bedrock": ("byway.providers.bedrock", "BedrockAdapter"),
    "cohere": ("byway.providers.cohere", "CohereAdapter"),
    "ollama": ("byway.providers.ollama", "OllamaAdapter"),
}


def _make(kind: ProviderType) -> Adapter:
    spec = SPECS[kind]
    module_name, class_name = _FAMILIES[spec.family]
    adapter: Adapter = getattr(importlib.import_module(module_name), class_name)(spec)
    return adapter
