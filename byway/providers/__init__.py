"""Provider adapters: one per wire family, each provider type mostly data (see ``catalog``)."""

from byway.providers.config import ModelPrice, ProviderConfig, ProviderType

__all__ = ["ModelPrice", "ProviderConfig", "ProviderType"]
