"""The Anthropic Messages API adapter.

``POST {base}/v1/messages`` with ``x-api-key`` and ``anthropic-version``; the
translation itself lives in ``anthropic_request`` (building the body),
``anthropic_response`` (a whole answer), ``anthropic_stream`` (an event stream)
and ``anthropic_errors`` (the error envelope).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from byway.core import ChatRequest, ChatResponse, InvalidRequestError, ProviderError, UpstreamUnavailableError
from byway.providers.anthropic_errors import anthropic_error
from byway.providers.anthropic_request import JSON_TOOL, build_body
from byway.providers.anthropic_response import parse_message
from byway.providers.anthropic_stream import AnthropicStreamDecoder
from byway.providers.base import AdapterBase, HttpCall
from byway.providers.catalog import ProviderSpec
from byway.providers.config import ProviderConfig

ANTHROPIC_VERSION = "2023-06-01"
MODELS_PAGE = 1000  # the most /v1/models returns at once (its default is 20)


class _Model(msgspec.Struct):
    id: str


class _ModelList(msgspec.Struct):
    data: list[_Model]


_MODELS = msgspec.json.Decoder(_ModelList)


class AnthropicAdapter(AdapterBase):
    family = "anthropic"

    __slots__ = ("spec",)

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec

    def base_url(self, provider: ProviderConfig) -> str:
        base = provider.base_url or self.spec.default_base_url
        if not base:
            raise InvalidRequestError(f"provider {provider.name!r} has no base_url", param="base_url")
        return base.rstrip("/")

    def headers(self, provider: ProviderConfig, *, json_body: bool = True) -> dict[str, str]:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if json_body:
            headers["content-type"] = "application/json"
        if provider.api_key:
            headers["x-api-key"] = provider.api_key
        if provider.headers:
            headers.update(provider.headers)
        return headers

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        body = msgspec.json.encode(build_body(request))
        return HttpCall(method="POST", url=self.base_url(provider) + "/v1/messages",
                        headers=self.headers(provider), body=body)

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse:
        return parse_message(provider.name, body)

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(provider.name, JSON_TOOL)

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        return anthropic_error(provider.name, status, headers, body)

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        return HttpCall(method="GET", url=f"{self.base_url(provider)}/v1/models?limit={MODELS_PAGE}",
                        headers=self.headers(provider, json_body=False))

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]:
        try:
            listing = _MODELS.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable model list ({exc})",
                                           provider=provider.name, upstream_status=200) from exc
        return [model.id for model in listing.data]
