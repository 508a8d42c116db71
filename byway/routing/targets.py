"""Resolving a model name to the ordered targets that may serve it (CONTRACT §3)."""

from __future__ import annotations

import msgspec

from byway.config import RouteConfig
from byway.core import ModelNotFoundError, PermissionDeniedError, UpstreamUnavailableError
from byway.core.principal import Principal
from byway.providers.config import ProviderConfig


class Target(msgspec.Struct, frozen=True):
    provider: ProviderConfig
    model: str


class Router:
    """Knows the providers and routes; answers which targets serve a model name."""

    def __init__(self, providers: list[ProviderConfig], routes: list[RouteConfig] | None = None) -> None:
        self.providers: dict[str, ProviderConfig] = {p.name: p for p in providers}
        self.by_priority = sorted(providers, key=lambda p: p.priority)
        self.routes: dict[str, RouteConfig] = {r.name: r for r in routes or ()}
        self._cache: dict[tuple[str, str | None], list[Target]] = {}

    def resolve(self, model: str, principal: Principal) -> list[Target]:
        """Targets for ``model`` in the order to try them. Raises 404 for unknown names,
        403 when the caller may not use what was named."""
        if not model:
            raise ModelNotFoundError("model is required", param="model")
        key = (model, principal.default_provider)
        targets = self._cache.get(key)
        if targets is None:
            targets = self._resolve(model, principal.default_provider)
            if len(self._cache) < 10_000:
                self._cache[key] = targets
        if principal.allowed_models is not None:
            if model in principal.allowed_models:
                return targets
            allowed = [t for t in targets if principal.may_use(t.provider.name, t.model)]
            if not allowed:
                raise PermissionDeniedError(f"this key may not use the model {model!r}", param="model")
            return allowed
        return targets

    def _resolve(self, model: str, default_provider: str | None) -> list[Target]:
        name, sep, rest = model.partition(":")
        if sep and name in self.providers:
            provider = self.providers[name]
            if not rest:
                raise ModelNotFoundError(f"no model named after provider {name!r}: use {name}:MODEL", param="model")
            if not provider.serves(rest):
                raise ModelNotFoundError(
                    f"provider {name!r} does not offer the model {rest!r}; it offers: "
                    + ", ".join(f"{name}:{m}" for m in provider.models or ()), param="model")
            self._check_enabled(provider)
            return [Target(provider, rest)]
        route = self.routes.get(model)
        if route is not None:
            if route.mode == "off":
                raise UpstreamUnavailableError(f"route {model!r} is switched off", code="route_disabled",
                                               status=503, retryable=False)
            targets = []
            for entry in route.targets:
                pname, _, pmodel = entry.partition(":")
                provider = self.providers[pname]
                if provider.enabled:
                    targets.append(Target(provider, pmodel))
            if not targets:
                raise UpstreamUnavailableError(f"every provider of route {model!r} is disabled",
                                               code="provider_disabled", status=503, retryable=False)
            return targets[:1] if route.mode == "exclusive" else targets
        # A bare model name: the caller's default provider if it serves it, else the first by priority
        # whose catalogue lists it.
        if default_provider and default_provider in self.providers:
            provider = self.providers[default_provider]
            if provider.enabled and provider.serves(model):
                return [Target(provider, model)]
        for provider in self.by_priority:
            if provider.enabled and provider.models is not None and model in provider.models:
                return [Target(provider, model)]
        raise ModelNotFoundError(f"the model {model!r} does not exist or is not available; available: "
                                 + ", ".join(self.available()), param="model")

    @staticmethod
    def _check_enabled(provider: ProviderConfig) -> None:
        if not provider.enabled:
            raise UpstreamUnavailableError(f"provider {provider.name!r} is disabled", code="provider_disabled",
                                           status=503, retryable=False, provider=provider.name)

    def available(self, principal: Principal | None = None) -> list[str]:
        """Every model name the caller may ask for: routes, then ``provider:model`` pairs."""
        names = [r for r, route in self.routes.items() if route.mode != "off"]
        for p in self.by_priority:
            if p.enabled:
                names.extend(f"{p.name}:{m}" for m in p.models or ())
        if principal is not None and principal.allowed_models is not None:
            names = [n for n in names if n in principal.allowed_models or principal.may_use(*_split(n))]
        return names


def _split(name: str) -> tuple[str, str]:
    provider, _, model = name.partition(":")
    return provider, model
