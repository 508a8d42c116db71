"""What every provider adapter does, and the values it hands around.

An adapter is pure translation: it builds an ``HttpCall`` out of a canonical
request and turns bytes the provider answered into canonical values. It does
no I/O; ``byway.providers.transport`` sends the call. That keeps every adapter
testable on recorded traffic without a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import msgspec

from byway.core import ChatRequest, ChatResponse, ProviderError, StreamEvent
from byway.providers.config import ProviderConfig


class HttpCall(msgspec.Struct):
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


class Frame(msgspec.Struct):
    """One frame of a provider stream: its raw bytes exactly as received (for
    passing through to a client of the same wire family) and what it meant."""

    raw: bytes
    events: list[StreamEvent]


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
