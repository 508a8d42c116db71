"""What every provider adapter does, and the values it hands around.

An adapter is pure translation: it builds an ``HttpCall`` out of a canonical
request and turns bytes the provider answered into canonical values. It does
no I/O; ``byway.providers.transport`` sends the call. That keeps every adapter
testable on recorded traffic without a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import msgspec

from byway.core import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    InvalidRequestError,
    ProviderError,
    StreamEvent,
)
from byway.providers.config import ProviderConfig

if TYPE_CHECKING:
    from byway.providers.transport import Transport


class HttpCall(msgspec.Struct):
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


class Frame(msgspec.Struct):
    """One frame of a provider stream: its raw bytes exactly as received (for
    passing through to a client of the same wire family) and what it meant.
    ``count``: how many of the provider's stream events the raw bytes hold (more
    than one when a decoder passes a run of events it need not read as one frame)."""

    raw: bytes
    events: list[StreamEvent]
    count: int = 1


class StreamDecoder(Protocol):
    def feed(self, chunk: bytes) -> list[Frame]:
        """Take the next bytes off the wire; return the frames they complete.

        Raises ``ProviderError`` when the stream carries an error."""
        ...

    def close(self) -> list[Frame]:
        """The stream ended: return what is left; raise ``ProviderError`` if it ended
        before the provider said it was done."""
        ...


class Adapter(Protocol):
    family: str  # the wire format: "openai", "anthropic", ...
    inline_images: bool  # True: the provider takes image bytes only, so http(s) image URLs are fetched first

    def wire_family(self, provider: ProviderConfig) -> str: ...

    def chat_call(self, provider: ProviderConfig, request: ChatRequest) -> HttpCall:
        """The HTTP call for a chat request (``request.model`` is the provider's model name)."""
        ...

    def parse_chat(self, provider: ProviderConfig, body: bytes) -> ChatResponse: ...

    def stream_decoder(self, provider: ProviderConfig, request: ChatRequest) -> StreamDecoder: ...

    def parse_error(self, provider: ProviderConfig, status: int, headers: Mapping[str, str],
                    body: bytes) -> ProviderError:
        """Map an error answer to the right typed error (429 with retry-after, 404 model, auth...)."""
        ...

    def models_call(self, provider: ProviderConfig) -> HttpCall: ...

    def parse_models(self, provider: ProviderConfig, body: bytes) -> list[str]: ...

    def validate_call(self, provider: ProviderConfig) -> HttpCall:
        """The cheapest call that proves the credentials work: a 2xx answer means valid, an error
        answer goes through ``parse_error`` for the provider's reason."""
        ...

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        """The calls that embed ``request.inputs`` (one, unless the API takes a single text per call, as
        Bedrock's Titan does). Raises ``InvalidRequestError`` when the provider has no embeddings API."""
        ...

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        """The answers to ``embeddings_calls``, in the same order."""
        ...

    async def authorize(self, provider: ProviderConfig, call: HttpCall, transport: Transport) -> HttpCall:
        """Add credentials that take I/O to obtain (Vertex's OAuth token) to a built call, just before it
        is sent; adapters whose credentials are in the config return ``call`` as it is."""
        ...


class AdapterBase:
    """Defaults for the optional parts of ``Adapter``."""

    family = ""
    inline_images = False

    def wire_family(self, provider: ProviderConfig) -> str:
        """The wire format ``provider`` is spoken to in: the adapter's family, unless the provider asked
        for another of its APIs (Ollama's OpenAI-compatible one)."""
        return self.family

    def models_call(self, provider: ProviderConfig) -> HttpCall:
        raise NotImplementedError

    def validate_call(self, provider: ProviderConfig) -> HttpCall:
        return self.models_call(provider)

    def embeddings_calls(self, provider: ProviderConfig, request: EmbeddingRequest) -> list[HttpCall]:
        raise InvalidRequestError(f"provider {provider.name} ({provider.provider_type.value}) has no embeddings API",
                                  param="model", code="embeddings_not_supported")

    def parse_embeddings(self, provider: ProviderConfig, request: EmbeddingRequest,
                         bodies: list[bytes]) -> EmbeddingResponse:
        raise InvalidRequestError(f"provider {provider.name} has no embeddings API", param="model")

    async def authorize(self, provider: ProviderConfig, call: HttpCall, transport: Transport) -> HttpCall:
        return call
