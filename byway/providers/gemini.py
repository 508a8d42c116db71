"""The Gemini adapter: Google's Generative Language API (``gemini``) and Vertex AI (``vertex``).

Both take the same ``GenerateContentRequest`` body and answer the same ``GenerateContentResponse``; they differ
in URLs and credentials:

- gemini: ``{base}/v1beta/models/{m}:generateContent`` (``:streamGenerateContent?alt=sse``), the key in the
  ``x-goog-api-key`` header; models at ``GET {base}/v1beta/models?pageSize=1000``; embeddings through
  ``:batchEmbedContents`` (100 texts a call; Gemini reports no token usage for them, so it is estimated).
- vertex: ``{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{m}:generateContent``,
  ``base`` defaulting to ``https://{location}-aiplatform.googleapis.com`` (``https://aiplatform.googleapis.com``
  for the ``global`` location), an OAuth2 bearer token from the service account (``vertex_auth``) added by
  ``authorize`` just before sending; the project is the config's ``project``, else the key file's
  ``project_id``. Models: the Model Garden list ``GET {base}/v1beta1/publishers/google/models`` (it exists only
  in v1beta1); validating the credentials is a token exchange plus that list. Embeddings: ``:predict`` with one
  instance per text (``gemini-embedding-*`` takes one per call, ``text-embedding-*`` up to 250).

The translation lives in ``gemini_request``, ``gemini_response``, ``gemini_stream`` and ``gemini_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
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
    Usage,
)
from byway.core.usage import estimate_tokens
from byway.providers.base import AdapterBase, HttpCall
from byway.providers.catalog import ProviderSpec
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini_errors import gemini_error
from byway.providers.gemini_request import build_body, model_name
from byway.providers.gemini_response import parse_generate
from byway.providers.gemini_stream import GeminiStreamDecoder
from byway.providers.vertex_auth import VertexAuth

if TYPE_CHECKING:
    from byway.providers.transport import Transport

DEFAULT_LOCATION = "us-central1"
MODELS_PAGE = 1000
GEMINI_EMBED_BATCH = 100  # batchEmbedContents takes at most 100 requests
VERTEX_EMBED_BATCH = 250  # :predict takes at most 250 instances (gemini-embedding-* only one)
TASK_TYPES = {"search_document": "RETRIEVAL_DOCUMENT", "search_query": "RETRIEVAL_QUERY",
              "classification": "CLASSIFICATION", "clustering": "CLUSTERING"}
_PROJECT = "{project}"  # stands in the URL until ``authorize`` knows the key file's project
_JSON = "application/json"


class _Values(msgspec.Struct):
    values: list[float] = msgspec.field(default_factory=list)


class _EmbedUsage(msgspec.Struct, rename="camel"):
    prompt_token_count: int = 0


class _BatchEmbedded(msgspec.Struct, rename="camel"):
    embeddings: list[_Values] = msgspec.field(default_factory=list)
    usage_metadata: _EmbedUsage | None = None


class _Statistics(msgspec.Struct):
    token_count: float = 0


class _PredictedEmbedding(msgspec.Struct):
    values: list[float] = msgspec.field(default_factory=list)
    statistics: _Statistics | None = None


class _Prediction(msgspec.Struct):
    embeddings: _PredictedEmbedding


class _Predicted(msgspec.Struct):
    predictions: list[_Prediction] = msgspec.field(default_factory=list)


class _Model(msgspec.Struct):
    name: str = ""


class _ModelList(msgspec.Struct, rename="camel"):
    models: list[_Model] = msgspec.field(default_factory=list)
    publisher_models: list[_Model] = msgspec.field(default_factory=list)


_BATCH_EMBEDDED = msgspec.json.Decoder(_BatchEmbedded)
_PREDICTED = msgspec.json.Decoder(_Predicted)
_MODELS = msgspec.json.Decoder(_ModelList)


class GeminiAdapter(AdapterBase):
    family = "gemini"
    inline_images = True

    def __init__(self, spec: ProviderSpec) -> None:
        if spec.family != "gemini":
            raise ValueError(f"{spec.type} is not a Gemini-family provider type")
        self.spec = spec
        self.vertex = spec.type == ProviderType.VERTEX
        self.auth = VertexAuth()

    # --- URLs and headers -------------------------------------------------------------------------

    def base_url(self, provider: ProviderConfig) -> str:
        if provider.base_url:
            return provider.base_url.rstrip("/")
        if self.vertex:
            location = self.location(provider)
            return ("https://aiplatform.googleapis.com" if location == "global"
                    else f"https://{location}-aiplatform.googleapis.com")
        if not self.spec.default_base_url:
            raise InvalidRequestError(f"provider {provider.name} has no base_url", param="base_url")
        return self.spec.default_base_url

    @staticmethod
    def location(provider: ProviderConfig) -> str:
        return provider.location or DEFAULT_LOCATION

    def model_url(self, provider: ProviderConfig, model: str, method: str) -> str:
        """``{base}/.../models/{model}:{method}`` for either API."""
        name = quote(model_name(model), safe="")
        base = self.base_url(provider)
        if not self.vertex:
            return f"{base}/v1beta/models/{name}:{method}"
        project = quote(provider.project, safe="") if provider.project else _PROJECT
        location = quote(self.location(provider), safe="")
        return f"{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{name}:{method}"

    def headers(self, provider: ProviderConfig, *, json_body: bool = True) -> dict[str, str]:
        headers = {"content-type": _JSON} if json_body else {}
        if provider.api_key and not self.vertex:
            headers["x-goog-api-key"] = provider.api_key
        if provider.headers:
            headers.update(provider.headers)
        return headers

    # --- Adapter protocol -------------------------------------------------------------------------

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        method = "streamGenerateContent?alt=sse" if request.stream else "generateContent"
        body = msgspec.json.encode(build_body(request))
        return HttpCall(method="POST", url=self.model_url(provider, request.model, method),
                        headers=self.headers(provider), body=body)

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse:
        return parse_generate(provider.name, body)

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(provider.name)

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        if self.vertex and status == 401:
            self.auth.forget(provider)  # the token was refused: fetch a new one next time
        return gemini_error(provider.name, status, headers, body)

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        base = self.base_url(provider)
        if self.vertex:
            url = f"{base}/v1beta1/publishers/google/models?pageSize={MODELS_PAGE}"
        else:
            url = f"{base}/v1beta/models?pageSize={MODELS_PAGE}"
        return HttpCall(method="GET", url=url, headers=self.headers(provider, json_body=False))

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]:
        try:
            listing = _MODELS.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable model list ({exc})", provider=provider.name,
                                           upstream_status=200) from exc
        return [model_name(m.name) for m in (listing.publisher_models or listing.models) if m.name]

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        if not request.inputs:
            raise InvalidRequestError("input must not be empty", param="input")
        headers = self.headers(provider)
        if self.vertex:
            url = self.model_url(provider, request.model, "predict")
            size = 1 if model_name(request.model).startswith("gemini-embedding") else VERTEX_EMBED_BATCH
            return [HttpCall(method="POST", url=url, headers=headers, body=self._predict_body(request, chunk))
                    for chunk in _chunks(request.inputs, size)]
        url = self.model_url(provider, request.model, "batchEmbedContents")
        return [HttpCall(method="POST", url=url, headers=headers, body=self._batch_body(request, chunk))
                for chunk in _chunks(request.inputs, GEMINI_EMBED_BATCH)]

    @staticmethod
    def _batch_body(request: EmbeddingRequest, texts: list[str]) -> bytes:
        model = "models/" + model_name(request.model)
        common: dict[str, Any] = {}
        if request.input_type is not None:
            common["taskType"] = TASK_TYPES[request.input_type]
        if request.dimensions is not None:
            common["outputDimensionality"] = request.dimensions
        requests = [{"model": model, "content": {"parts": [{"text": text}]}, **common} for text in texts]
        return msgspec.json.encode({"requests": requests})

    @staticmethod
    def _predict_body(request: EmbeddingRequest, texts: list[str]) -> bytes:
        task = TASK_TYPES[request.input_type] if request.input_type is not None else None
        instances = [{"content": text, "task_type": task} if task else {"content": text} for text in texts]
        body: dict[str, Any] = {"instances": instances}
        if request.dimensions is not None:
            body["parameters"] = {"outputDimensionality": request.dimensions}
        return msgspec.json.encode(body)

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        vectors: list[list[float]] = []
        tokens = 0
        estimated = False
        try:
            for body in bodies:
                if self.vertex:
                    for prediction in _PREDICTED.decode(body).predictions:
                        embedding = prediction.embeddings
                        vectors.append(embedding.values)
                        if embedding.statistics is not None:
                            tokens += int(embedding.statistics.token_count)
                        else:
                            tokens += estimate_tokens(request.inputs[len(vectors) - 1])
                            estimated = True
                else:
                    answer = _BATCH_EMBEDDED.decode(body)
                    start = len(vectors)
                    vectors.extend(e.values for e in answer.embeddings)
                    if answer.usage_metadata is not None and answer.usage_metadata.prompt_token_count:
                        tokens += answer.usage_metadata.prompt_token_count
                    else:
                        tokens += sum(estimate_tokens(t) for t in request.inputs[start:len(vectors)])
                        estimated = True
        except (msgspec.DecodeError, msgspec.ValidationError, IndexError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable embeddings answer ({exc})",
                                           provider=provider.name, upstream_status=200) from exc
        if len(vectors) != len(request.inputs):
            raise UpstreamUnavailableError(f"{provider.name}: {len(vectors)} embeddings for {len(request.inputs)} "
                                           "inputs", provider=provider.name, upstream_status=200)
        return EmbeddingResponse(vectors=vectors, usage=Usage(input_tokens=tokens), model=model_name(request.model),
                                 provider=provider.name, estimated=estimated)

    async def authorize(self, provider: ProviderConfig, call: HttpCall, transport: Transport) -> HttpCall:
        if not self.vertex:
            return call
        token = await self.auth.token(provider, transport)
        url = call.url
        if _PROJECT in url:
            project = (await self.auth.account(provider)).project_id
            if not project:
                raise InvalidRequestError(f"provider {provider.name}: Vertex needs a project (config `project`, or "
                                          "project_id in the service-account key)", param="project")
            url = url.replace(_PROJECT, quote(project, safe=""))
        return HttpCall(method=call.method, url=url, headers={**call.headers, "authorization": f"Bearer {token}"},
                        body=call.body)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]
