"""The adapter for every provider that speaks OpenAI's Chat Completions: OpenAI itself, Azure OpenAI, Mistral,
Groq, Together, xAI, OpenRouter, Hugging Face, Ollama's /v1, DeepSeek, Fireworks and any compatible server.

Per-type differences are data: ``catalog.SPECS`` (URL, auth) and ``openai_quirks.QUIRKS`` (fields and
spellings). The translation lives in ``openai_request``, ``openai_response``, ``openai_stream`` and
``openai_errors``; this module adds URLs and headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import msgspec

from byway.core import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    InvalidRequestError,
    ProviderError,
    UpstreamUnavailableError,
)
from byway.providers.base import AdapterBase, HttpCall
from byway.providers.catalog import ProviderSpec
from byway.providers.config import ProviderConfig
from byway.providers.openai_embeddings import build_body as embeddings_body
from byway.providers.openai_embeddings import parse_embeddings
from byway.providers.openai_errors import parse_error
from byway.providers.openai_quirks import quirks_for
from byway.providers.openai_request import build_body
from byway.providers.openai_response import parse_completion
from byway.providers.openai_stream import OpenAIStreamDecoder

AZURE_API_VERSION = "2024-10-21"
_JSON = "application/json"


class OpenAIAdapter(AdapterBase):
    family = "openai"

    def __init__(self, spec: ProviderSpec) -> None:
        if spec.family != "openai":
            raise ValueError(f"{spec.type} is not an OpenAI-family provider type")
        self.spec = spec
        self.quirks = quirks_for(spec.type)

    # --- URLs and headers -------------------------------------------------------------------------

    def base_url(self, provider: ProviderConfig) -> str:
        base = provider.base_url or self.spec.default_base_url
        if not base:
            raise InvalidRequestError(f"provider {provider.name} ({self.spec.type}) needs a base_url",
                                      param="base_url")
        return base.rstrip("/")

    def _uses_deployments(self, base: str) -> bool:
        """Azure's classic URLs name the deployment; an endpoint given as ``.../openai/v1`` takes the
        model in the body like OpenAI does."""
        return self.quirks.deployment_urls and not base.endswith("/v1")

    def _api_version(self, provider: ProviderConfig) -> str:
        return quote(provider.api_version or AZURE_API_VERSION, safe="")

    def headers(self, provider: ProviderConfig, *, stream: bool = False) -> dict[str, str]:
        headers = {"content-type": _JSON, "accept": "text/event-stream" if stream else _JSON}
        key = provider.api_key
        if key:
            if self.spec.auth == "api-key":
                headers["api-key"] = key
            else:
                headers["authorization"] = f"Bearer {key}"
        if provider.headers:
            headers.update(provider.headers)
        return headers

    # --- Adapter protocol -------------------------------------------------------------------------

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        base = self.base_url(provider)
        if self._uses_deployments(base):
            url = (f"{base}/openai/deployments/{quote(request.model, safe='')}/chat/completions"
                   f"?api-version={self._api_version(provider)}")
        else:
            url = f"{base}/chat/completions"
        body = msgspec.json.encode(build_body(request, self.quirks))
        return HttpCall(method="POST", url=url, headers=self.headers(provider, stream=request.stream), body=body)

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse:
        return parse_completion(provider.name, body)

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder(provider.name)

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        return parse_error(provider.name, status, headers, body)

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        if not self.spec.embeddings:
            return super().embeddings_calls(provider, request)
        base = self.base_url(provider)
        if self._uses_deployments(base):
            url = (f"{base}/openai/deployments/{quote(request.model, safe='')}/embeddings"
                   f"?api-version={self._api_version(provider)}")
        else:
            url = f"{base}/embeddings"
        return [HttpCall(method="POST", url=url, headers=self.headers(provider), body=embeddings_body(request))]

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        return parse_embeddings(provider.name, request, bodies[0])

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        base = self.base_url(provider)
        if self._uses_deployments(base):
            url = f"{base}/openai/models?api-version={self._api_version(provider)}"
        else:
            url = f"{base}/models"
        headers = self.headers(provider)
        del headers["content-type"]
        return HttpCall(method="GET", url=url, headers=headers)

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]:
        """``{"data": [{"id": ...}]}``; Together answers with the bare list."""
        try:
            listing = msgspec.json.decode(body, type=_ModelList | list[_Model])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable model list ({exc})", provider=provider.name,
                                           upstream_status=200) from exc
        models = listing if isinstance(listing, list) else listing.data
        return [m.id for m in models if m.id]


class _Model(msgspec.Struct):
    id: str = ""


class _ModelList(msgspec.Struct):
    data: list[_Model] = msgspec.field(default_factory=list)
