"""The AWS Bedrock adapter (the Converse API).

``POST {base}/model/{modelId}/converse`` and ``/converse-stream`` on ``https://bedrock-runtime.{region}
.amazonaws.com`` (``region`` defaults to us-east-1; ``base_url`` overrides the whole base); embeddings are
``POST {base}/model/{modelId}/invoke``; the model list is the control plane's ``GET https://bedrock.{region}
.amazonaws.com/foundation-models`` (``{base_url}/foundation-models`` with an override), which also proves
the credentials.

Credentials: ``aws_access_key_id`` + ``aws_secret_access_key`` (+ ``aws_session_token``) sign each call with
SigV4 (``bedrock_sign``) when it is built; a Bedrock API key given as ``api_key`` is sent as a bearer token
instead.

Model ids contain ``:`` (``amazon.nova-micro-v1:0``) and ARNs contain ``/``. The path segment escapes ``/``
(``%2F``) and leaves ``:`` as it is: the transport's URL handling (aiohttp/yarl) sends a ``%3A`` as ``:``,
and the signature must cover the path exactly as sent. Both spellings name the same model to Bedrock.

The translation lives in ``bedrock_request``, ``bedrock_response``, ``bedrock_stream``, ``bedrock_errors``
and ``bedrock_embeddings``; this module adds URLs, headers and credentials.
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
    ProviderError,
    UpstreamAuthError,
    UpstreamUnavailableError,
)
from byway.providers.base import AdapterBase, HttpCall
from byway.providers.bedrock_embeddings import embedding_bodies, parse_embedding_bodies
from byway.providers.bedrock_errors import bedrock_error
from byway.providers.bedrock_request import build_body
from byway.providers.bedrock_response import parse_converse
from byway.providers.bedrock_sign import sigv4_headers
from byway.providers.bedrock_stream import BedrockStreamDecoder
from byway.providers.catalog import ProviderSpec
from byway.providers.config import ProviderConfig

DEFAULT_REGION = "us-east-1"
RUNTIME_URL = "https://bedrock-runtime.{region}.amazonaws.com"
CONTROL_URL = "https://bedrock.{region}.amazonaws.com"
JSON = "application/json"
EVENT_STREAM = "application/vnd.amazon.eventstream"


def model_path(model: str) -> str:
    """The model id as one path segment, as the transport sends it (``:`` kept, ``/`` and the rest escaped)."""
    return quote(model, safe=":")


class _Summary(msgspec.Struct):
    modelId: str = ""
    inferenceTypesSupported: list[str] | None = None


class _Listing(msgspec.Struct):
    modelSummaries: list[_Summary] = msgspec.field(default_factory=list)


_LISTING = msgspec.json.Decoder(_Listing)


class BedrockAdapter(AdapterBase):
    family = "bedrock"
    inline_images = True

    __slots__ = ("spec",)

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec

    # --- URLs, headers, credentials -----------------------------------------------------------------

    @staticmethod
    def region(provider: ProviderConfig) -> str:
        return provider.region or DEFAULT_REGION

    def runtime_url(self, provider: ProviderConfig) -> str:
        return (provider.base_url or RUNTIME_URL.format(region=self.region(provider))).rstrip("/")

    def control_url(self, provider: ProviderConfig) -> str:
        return (provider.base_url or CONTROL_URL.format(region=self.region(provider))).rstrip("/")

    def call(self, provider: ProviderConfig, method: str, url: str, body: bytes | None = None,
             accept: str = JSON) -> HttpCall:
        """A call with its credentials: a bearer API key, or a SigV4 signature made now."""
        headers = {"accept": accept}
        if body is not None:
            headers["content-type"] = JSON
        if provider.headers:
            headers.update(provider.headers)
        if provider.api_key:
            headers["authorization"] = f"Bearer {provider.api_key}"
        elif provider.aws_access_key_id and provider.aws_secret_access_key:
            headers = sigv4_headers(method, url, headers, body, access_key=provider.aws_access_key_id,
                                    secret_key=provider.aws_secret_access_key,
                                    session_token=provider.aws_session_token, region=self.region(provider))
        else:
            raise UpstreamAuthError(f"{provider.name}: no AWS credentials (aws_access_key_id and "
                                    "aws_secret_access_key) and no Bedrock API key (api_key)", provider=provider.name)
        return HttpCall(method=method, url=url, headers=headers, body=body)

    # --- Adapter protocol ---------------------------------------------------------------------------

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        operation, accept = ("converse-stream", EVENT_STREAM) if request.stream else ("converse", JSON)
        url = f"{self.runtime_url(provider)}/model/{model_path(request.model)}/{operation}"
        return self.call(provider, "POST", url, msgspec.json.encode(build_body(request)), accept)

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse:
        return parse_converse(provider.name, body)

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> BedrockStreamDecoder:
        return BedrockStreamDecoder(provider.name)

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        return bedrock_error(provider.name, status, headers, body)

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        return self.call(provider, "GET", f"{self.control_url(provider)}/foundation-models")

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]:
        """Every model that can be called on demand or through an inference profile (not provisioned-only)."""
        try:
            listing = _LISTING.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{provider.name}: unreadable model list ({exc})",
                                           provider=provider.name, upstream_status=200) from exc
        models: list[str] = []
        for summary in listing.modelSummaries:
            kinds = summary.inferenceTypesSupported
            if summary.modelId and (kinds is None or kinds != ["PROVISIONED"]) and summary.modelId not in models:
                models.append(summary.modelId)
        return models

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        url = f"{self.runtime_url(provider)}/model/{model_path(request.model)}/invoke"
        return [self.call(provider, "POST", url, body) for body in embedding_bodies(request)]

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        return parse_embedding_bodies(provider.name, request, bodies)
