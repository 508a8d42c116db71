"""Resolving a model name to the ordered targets that may serve it (CONTRACT §3).

Besides the config's providers a caller may bring their own: the credentials of a user (and the
shared ones), handed to the router as a ``Personal`` view by whoever keeps accounts. A credential is
addressed by its name and shadows a config provider or route of the same name for its owner.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from byway.config import RouteConfig
from byway.core import ChatRequest, ModelNotFoundError, PermissionDeniedError, UpstreamUnavailableError
from byway.core.principal import Principal
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig


class Defaults(msgspec.Struct, frozen=True):
    """What a credential fills in when a request leaves it unset."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


class Target(msgspec.Struct, frozen=True):
    provider: ProviderConfig
    model: str
    defaults: Defaults | None = None
    retries: int | None = None  # extra tries on retryable errors; None: the provider's own ``retries``


class Offered(msgspec.Struct, frozen=True):
    """A provider a caller brings (a credential): its connection, the model used when a request names
    only the credential, the models looked through for bare model names, and its request defaults."""

    provider: ProviderConfig
    model: str | None = None
    catalogue: tuple[str, ...] = ()
    defaults: Defaults | None = None


class Personal:
    """The providers one caller may use besides the config's, in the order they are looked through
    (their own credentials by priority, then shared ones), and the caller's per-request token cap."""

    __slots__ = ("by_name", "fallback", "max_tokens", "ordered")

    def __init__(self, ordered: list[Offered], max_tokens: int | None = None, fallback: str | None = None) -> None:
        self.ordered = tuple(ordered)
        self.max_tokens = max_tokens
        self.fallback = fallback  # a provider or credential name tried after the request's own targets
        self.by_name: dict[str, Offered] = {}
        for offered in ordered:
            self.by_name.setdefault(offered.provider.name, offered)


PersonalLookup = Callable[[Principal], Personal | None]


def fit(request: ChatRequest, defaults: Defaults | None, cap: int | None) -> ChatRequest:
    """``request`` with a credential's defaults where it left a setting unset, and ``max_tokens`` held to
    ``cap`` (a user's ``max_tokens_per_request``): a larger or missing value is lowered to the cap, so the
    answer ends with the usual length finish reason rather than an error."""
    changes: dict[str, float | int] = {}
    if defaults is not None:
        if request.temperature is None and defaults.temperature is not None:
            changes["temperature"] = defaults.temperature
        if request.top_p is None and defaults.top_p is not None:
            changes["top_p"] = defaults.top_p
        if request.max_tokens is None and defaults.max_tokens is not None:
            changes["max_tokens"] = defaults.max_tokens
    if cap is not None:
        wanted = changes.get("max_tokens", request.max_tokens)
        if wanted is None or wanted > cap:
            changes["max_tokens"] = cap
    return msgspec.structs.replace(request, **changes) if changes else request


class Router:
    """Knows the providers and routes; answers which targets serve a model name.

    ``personal`` (set by the server when it keeps accounts) gives the providers a caller brings."""

    def __init__(self, providers: list[ProviderConfig], routes: list[RouteConfig] | None = None,
                 personal: PersonalLookup | None = None) -> None:
        self.providers: dict[str, ProviderConfig] = {p.name: p for p in providers}
        self.by_priority = sorted(providers, key=lambda p: p.priority)
        self.routes: dict[str, RouteConfig] = {r.name: r for r in routes or ()}
        self.personal = personal
        # orders a pooled route's targets per request: (route name, strategy, targets) -> targets
        self.order: Callable[[str, str, list[Target]], list[Target]] | None = None
        self._cache: dict[tuple[str, str | None], list[Target]] = {}

    def plan(self, request: ChatRequest, principal: Principal) -> tuple[ChatRequest, list[Target]]:
        """The targets for ``request.model`` and the request as they should get it (see ``fit``)."""
        mine = self.personal(principal) if self.personal is not None else None
        targets = self._targets(request.model, principal, mine)
        if mine is not None and mine.fallback is not None:
            targets = self._with_fallback(targets, mine.fallback, mine, principal)
        cap = mine.max_tokens if mine is not None else None
        return fit(request, targets[0].defaults, cap), targets

    def _with_fallback(self, targets: list[Target], name: str, mine: Personal,
                       principal: Principal) -> list[Target]:
        """``targets`` and, after them, the caller's fallback provider (their ``auto_switch_provider``
        preference): with the same model when it serves it, else its own default model."""
        if any(t.provider.name == name for t in targets):
            return targets
        offered = mine.by_name.get(name)
        provider = offered.provider if offered is not None else self.providers.get(name)
        if provider is None or not provider.enabled:
            return targets
        wanted = targets[0].model
        if provider.models is None or wanted in provider.models:
            model: str | None = wanted
        else:
            model = (offered.model if offered is not None else None) or spec_for(provider.provider_type).default_model
        if not model or not principal.may_use(name, model):
            return targets
        return [*targets, Target(provider, model, offered.defaults if offered is not None else None)]

    def resolve(self, model: str, principal: Principal) -> list[Target]:
        """Targets for ``model`` in the order to try them. Raises 404 for unknown names,
        403 when the caller may not use what was named."""
        mine = self.personal(principal) if self.personal is not None else None
        return self._targets(model, principal, mine)

    def _targets(self, model: str, principal: Principal, mine: Personal | None) -> list[Target]:
        if not model:
            raise ModelNotFoundError("model is required", param="model")
        targets = self._personal(model, principal.default_provider, mine) if mine is not None else None
        if targets is None:
            key = (model, principal.default_provider)
            targets = self._cache.get(key)
            if targets is None:
                targets = self._resolve(model, principal.default_provider, mine)
                if len(self._cache) < 10_000:
                    self._cache[key] = targets
        route = self.routes.get(model)
        if route is not None and route.mode == "pooled" and self.order is not None:
            targets = self.order(model, route.strategy, targets)
        if principal.allowed_models is not None:
            if model in principal.allowed_models:
                return targets
            allowed = [t for t in targets if principal.may_use(t.provider.name, t.model)]
            if not allowed:
                raise PermissionDeniedError(f"this key may not use the model {model!r}", param="model")
            return allowed
        return targets

    def _personal(self, model: str, default_provider: str | None, mine: Personal) -> list[Target] | None:
        """The caller's own answer for ``model``, or None to resolve it among the config's providers."""
        name, sep, rest = model.partition(":")
        offered = mine.by_name.get(name)
        if offered is not None:
            provider = offered.provider
            if sep:
                if not rest:
                    raise ModelNotFoundError(f"no model named after credential {name!r}: use {name}:MODEL",
                                             param="model")
                if not provider.serves(rest):
                    raise ModelNotFoundError(
                        f"credential {name!r} does not offer the model {rest!r}; it offers: "
                        + ", ".join(f"{name}:{m}" for m in provider.models or ()), param="model")
                self._check_enabled(provider)
                return [Target(provider, rest, offered.defaults)]
            if not offered.model:
                raise ModelNotFoundError(f"credential {name!r} has no default model: use {name}:MODEL",
                                         param="model")
            self._check_enabled(provider)
            return [Target(provider, offered.model, offered.defaults)]
        if sep or model in self.routes:
            return None
        # A bare model name: the default provider first (a credential or a config provider), then the
        # caller's credentials whose catalogue lists it, then the config's providers.
        if default_provider is not None:
            chosen = mine.by_name.get(default_provider)
            if chosen is not None:
                if chosen.provider.enabled and chosen.provider.serves(model):
                    return [Target(chosen.provider, model, chosen.defaults)]
            else:
                provider = self.providers.get(default_provider)
                if provider is not None and provider.enabled and provider.serves(model):
                    return [Target(provider, model)]
        for offered in mine.ordered:
            if offered.provider.enabled and model in offered.catalogue:
                return [Target(offered.provider, model, offered.defaults)]
        return None

    def _resolve(self, model: str, default_provider: str | None, mine: Personal | None = None) -> list[Target]:
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
                    targets.append(Target(provider, pmodel, retries=route.retries))
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
                                 + ", ".join(self._names(mine)), param="model")

    @staticmethod
    def _check_enabled(provider: ProviderConfig) -> None:
        if not provider.enabled:
            raise UpstreamUnavailableError(f"provider {provider.name!r} is disabled", code="provider_disabled",
                                           status=503, retryable=False, provider=provider.name)

    def available(self, principal: Principal | None = None) -> list[str]:
        """Every model name the caller may ask for: their credentials' models, routes, then
        ``provider:model`` pairs."""
        mine = self.personal(principal) if principal is not None and self.personal is not None else None
        names = self._names(mine)
        if principal is not None and principal.allowed_models is not None:
            names = [n for n in names if n in principal.allowed_models or principal.may_use(*_split(n))]
        return names

    def _names(self, mine: Personal | None) -> list[str]:
        names: list[str] = []
        if mine is not None:
            for name, offered in mine.by_name.items():
                if offered.provider.enabled:
                    names.extend(f"{name}:{m}" for m in offered.catalogue)
        names.extend(r for r, route in self.routes.items() if route.mode != "off")
        for p in self.by_priority:
            if p.enabled:
                names.extend(f"{p.name}:{m}" for m in p.models or ())
        return names


def _split(name: str) -> tuple[str, str]:
    provider, _, model = name.partition(":")
    return provider, model
