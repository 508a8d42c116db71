"""The Cohere adapter: Chat API v2 and Embed v2.

``POST {base}/v2/chat`` and ``POST {base}/v2/embed`` with ``Authorization: Bearer <key>``; the model list is
``GET {base}/v1/models?endpoint=chat&page_size=1000``. Key validation asks for one model
(``GET /v1/models?page_size=1``): Cohere's ``/v1/check-api-key`` is deprecated in its SDK and answers 200
with ``"valid": false`` for a refused key, where the model list answers 401. Image URLs may be http(s) or
data URLs (the v2 API takes both), so ``inline_images`` is False. The translation lives in
``cohere_request``, ``cohere_response``, ``cohere_stream`` and ``cohere_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from byway.core import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    InvalidRequestError,
    ProviderError,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.base import AdapterBase, HttpCall
from byway.providers.catalog import ProviderSpec
from byway.providers.cohere_errors import cohere_error
from byway.providers.cohere_request import build_body
from byway.providers.cohere_response import parse_answer
from byway.providers.cohere_stream import CohereStreamDecoder
from byway.providers.config import ProviderConfig

MODELS_PAGE = 1000
EMBED_BATCH = 96  # the most texts one /v2/embed call takes
DEFAULT_INPUT_TYPE = "search_document"
_JSON = "application/json"


class _Model(msgspec.Struct):
    name: str | None = None


class _ModelList(msgspec.Struct):
    models: list[_Model] = msgspec.field(default_factory=list)


class _BilledUnits(msgspec.Struct):
    input_tokens: float | None = None


class _Meta(msgspec.Struct):
    billed_units: _BilledUnits | None = None


class _Vectors(msgspec.Struct):
    floats: list[list[float]] | None = msgspec.field(default=None, name="float")


class _Embedded(msgspec.Struct):
    embeddings: _Vectors | list[list[float]]
    meta: _Meta | None = None


_MODELS = msgspec.json.Decoder(_ModelList)
_EMBEDDED = msgspec.json.Decoder(_Embedded)


class CohereAdapter(AdapterBase):
    family = "cohere"
    inline_images = False

    __slots__ = ("spec",)

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec

    def base_url(self, provider: ProviderConfig) -> str:
        base = provider.base_url or self.spec.default_base_url
        if not base:
            raise InvalidRequestError(f"provider {provider.name!r} has no base_url", param="base_url")
        return base.rstrip("/")

    def headers(self, provider: ProviderConfig, *, body: bool = True, stream: bool = False) -> dict[str, str]:
        headers = {"accept": "text/event-stream" if stream else _JSON}
        if body:
            headers["content-type"] = _JSON
        if provider.api_key:
            headers["authorization"] = f"Bearer {provider.api_key}"
        if provider.headers:
            headers.update(provider.headers)
        return headers

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        return HttpCall(method="POST", url=self.base_url(provider) + "/v2/chat",
                        headers=self.headers(provider, stream=request.stream),
                        body=msgspec.json.encode(build_body(request)))

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse:
        return parse_answer(provider.name, body)

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> CohereStreamDecoder:
        return CohereStreamDecoder(provider.name, request.model)

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        return cohere_error(provider.name, status, headers, body)

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        url = f"{self.base_url(provider)}/v1/models?endpoint=chat&page_size={MODELS_PAGE}"
        return HttpCall(method="GET", url=url, headers=self.headers(provider, body=False))

    def validate_call(self, provider: ProviderConfig) -> HttpCall:
        return HttpCall(method="GET", url=f"{self.base_url(provider)}/v1/models?page_size=1",
                        headers=self.headers(provider, body=False))

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]:
        try:
            listing = _MODELS.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable model list ({exc})",
                                           provider=provider.name, upstream_status=200) from exc
        return [model.name for model in listing.models if model.name]

    # -- embeddings ------------------------------------------------------------------------------------------

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        """One ``/v2/embed`` call per 96 texts. ``input_type`` defaults to ``search_document``."""
        url = self.base_url(provider) + "/v2/embed"
        headers = self.headers(provider)
        calls = []
        for start in range(0, len(request.inputs), EMBED_BATCH):
            body: dict[str, object] = {"model": request.model, "texts": request.inputs[start:start + EMBED_BATCH],
                                       "input_type": request.input_type or DEFAULT_INPUT_TYPE,
                                       "embedding_types": ["float"]}
            if request.dimensions is not None:
                body["output_dimension"] = request.dimensions
            calls.append(HttpCall(method="POST", url=url, headers=headers, body=msgspec.json.encode(body)))
        return calls

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        vectors: list[list[float]] = []
        billed = 0
        for body in bodies:
            try:
                answer = _EMBEDDED.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise UpstreamUnavailableError(f"{provider.name}: unreadable embeddings ({exc})",
                                               provider=provider.name, upstream_status=200) from exc
            found = answer.embeddings if isinstance(answer.embeddings, list) else answer.embeddings.floats
            if found is None:
                raise UpstreamUnavailableError(f"{provider.name}: the answer holds no float embeddings",
                                               provider=provider.name, upstream_status=200)
            vectors.extend(found)
            units = answer.meta.billed_units if answer.meta is not None else None
            billed += int(units.input_tokens or 0) if units is not None else 0
        if len(vectors) != len(request.inputs):
            raise UpstreamUnavailableError(f"{provider.name}: {len(vectors)} embeddings for {len(request.inputs)} "
                                           "texts", provider=provider.name, upstream_status=200)
        return EmbeddingResponse(vectors=vectors, usage=Usage(input_tokens=billed), model=request.model,
                                 provider=provider.name)
