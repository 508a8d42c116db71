"""The Ollama adapter: the native API, or Ollama's OpenAI-compatible one.

Native (``api`` unset or ``"native"``): ``POST {base}/api/chat`` (NDJSON streams), ``POST {base}/api/embed``,
``GET {base}/api/tags`` for the model list and for validation. Images go as base64 only, so
``inline_images`` is True. A bearer token is sent when a key is configured (Ollama's cloud and
authenticating proxies want one; a local server ignores it).

OpenAI mode (``api: openai``): every call is delegated to an ``OpenAIAdapter`` built from this spec with
family ``openai`` and base URL ``{base}/v1``. A ``base_url`` given with its ``/v1`` already works in both
modes (the native API drops it). Any other ``api`` value is refused, naming the field.
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
from byway.providers.base import AdapterBase, HttpCall, StreamDecoder
from byway.providers.catalog import ProviderSpec
from byway.providers.config import ProviderConfig
from byway.providers.errors import error_for_status
from byway.providers.ollama_request import build_body
from byway.providers.ollama_response import parse_chat_answer
from byway.providers.ollama_stream import OllamaStreamDecoder
from byway.providers.openai import OpenAIAdapter

_JSON = "application/json"
_OPENAI_SUFFIX = "/v1"
_APIS = (None, "native", "openai")


class _Error(msgspec.Struct):
    error: str | None = None


class _Model(msgspec.Struct):
    name: str | None = None
    model: str | None = None


class _Tags(msgspec.Struct):
    models: list[_Model] = msgspec.field(default_factory=list)


class _Embedded(msgspec.Struct):
    embeddings: list[list[float]]
    prompt_eval_count: int | None = None


_ERROR = msgspec.json.Decoder(_Error)
_TAGS = msgspec.json.Decoder(_Tags)
_EMBEDDED = msgspec.json.Decoder(_Embedded)


class OllamaAdapter(AdapterBase):
    family = "ollama"
    inline_images = True

    __slots__ = ("openai", "spec")

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec
        default = (spec.default_base_url or "").rstrip("/")
        self.openai = OpenAIAdapter(msgspec.structs.replace(
            spec, family="openai", default_base_url=default + _OPENAI_SUFFIX if default else None))

    # -- which API ---------------------------------------------------------------------------------------------

    def wire_family(self, provider: ProviderConfig) -> str:
        return "openai" if self.speaks_openai(provider) else self.family

    def speaks_openai(self, provider: ProviderConfig) -> bool:
        api = provider.api
        if api not in _APIS:
            raise InvalidRequestError(f"provider {provider.name!r}: api must be 'native' or 'openai', not {api!r}",
                                      param="api")
        return api == "openai"

    def _openai_config(self, provider: ProviderConfig) -> ProviderConfig:
        """``provider`` with its base URL pointing at the OpenAI-compatible API."""
        base = provider.base_url
        if base is None or base.endswith(_OPENAI_SUFFIX):
            return provider
        return msgspec.structs.replace(provider, base_url=base + _OPENAI_SUFFIX)

    def base_url(self, provider: ProviderConfig) -> str:
        """The native API's base URL."""
        base = (provider.base_url or self.spec.default_base_url or "").rstrip("/")
        if not base:
            raise InvalidRequestError(f"provider {provider.name!r} has no base_url", param="base_url")
        return base[:-len(_OPENAI_SUFFIX)] if base.endswith(_OPENAI_SUFFIX) else base

    def headers(self, provider: ProviderConfig, *, body: bool = True, stream: bool = False) -> dict[str, str]:
        headers = {"accept": "application/x-ndjson" if stream else _JSON}
        if body:
            headers["content-type"] = _JSON
        if provider.api_key:
            headers["authorization"] = f"Bearer {provider.api_key}"
        if provider.headers:
            headers.update(provider.headers)
        return headers

    # -- chat --------------------------------------------------------------------------------------------------

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        if self.speaks_openai(provider):
            return self.openai.chat_call(self._openai_config(provider), request)
        return HttpCall(method="POST", url=self.base_url(provider) + "/api/chat",
                        headers=self.headers(provider, stream=request.stream),
                        body=msgspec.json.encode(build_body(request)))

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse:
        if self.speaks_openai(provider):
            return self.openai.parse_chat(provider, body)
        return parse_chat_answer(provider.name, body)

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> StreamDecoder:
        if self.speaks_openai(provider):
            return self.openai.stream_decoder(provider, request)
        return OllamaStreamDecoder(provider.name)

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        if self.speaks_openai(provider):
            return self.openai.parse_error(provider, status, headers, body)
        try:
            message = _ERROR.decode(body).error
        except (msgspec.DecodeError, msgspec.ValidationError):
            message = None
        if not message:
            text = body[:600].decode("utf-8", "replace").strip()
            message = f"HTTP {status}" + (f": {text}" if text else "")
        lowered = message.lower()
        missing = status in (400, 404) and "model" in lowered and "not found" in lowered
        return error_for_status(provider.name, status, message, headers, model_missing=missing)

    # -- models ------------------------------------------------------------------------------------------------

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        if self.speaks_openai(provider):
            return self.openai.models_call(self._openai_config(provider))
        return HttpCall(method="GET", url=self.base_url(provider) + "/api/tags",
                        headers=self.headers(provider, body=False))

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]:
        if self.speaks_openai(provider):
            return self.openai.parse_models(provider, body)
        try:
            tags = _TAGS.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable model list ({exc})",
                                           provider=provider.name, upstream_status=200) from exc
        return [name for model in tags.models if (name := model.name or model.model)]

    # -- embeddings --------------------------------------------------------------------------------------------

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        if self.speaks_openai(provider):
            return self.openai.embeddings_calls(self._openai_config(provider), request)
        body: dict[str, object] = {"model": request.model, "input": request.inputs}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        return [HttpCall(method="POST", url=self.base_url(provider) + "/api/embed", headers=self.headers(provider),
                         body=msgspec.json.encode(body))]

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        if self.speaks_openai(provider):
            return self.openai.parse_embeddings(provider, request, bodies)
        try:
            answer = _EMBEDDED.decode(bodies[0])
        except (msgspec.DecodeError, msgspec.ValidationError, IndexError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable embeddings ({exc})",
                                           provider=provider.name, upstream_status=200) from exc
        if len(answer.embeddings) != len(request.inputs):
            raise UpstreamUnavailableError(f"{provider.name}: {len(answer.embeddings)} embeddings for "
                                           f"{len(request.inputs)} inputs", provider=provider.name,
                                           upstream_status=200)
        return EmbeddingResponse(vectors=answer.embeddings, usage=Usage(input_tokens=answer.prompt_eval_count or 0),
                                 model=request.model, provider=provider.name)
