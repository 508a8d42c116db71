"""The Gemini adapter end to end against the Gemini and Vertex mocks, over loopback through Byway's Transport:
two independent implementations of the wire format that must agree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from byway.core import (
    Accumulator,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    ImagePart,
    Message,
    ProviderError,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
)
from byway.mock import MockServer, running
from byway.providers.base import HttpCall
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini import GeminiAdapter
from byway.providers.transport import Transport

GEMINI = GeminiAdapter(spec_for(ProviderType.GEMINI))
VERTEX = GeminiAdapter(spec_for(ProviderType.VERTEX))
WEATHER = Tool(name="get_weather", description="Current weather",
               parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                           "additionalProperties": False})
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport()
    yield transport
    await transport.close()


def gemini(mock: MockServer, key: str = "AIza-test", prefix: str = "") -> ProviderConfig:
    return ProviderConfig(provider_type=ProviderType.GEMINI, name="gm", api_key=key,
                          base_url=mock.url + prefix + "/gemini")


@pytest.fixture(scope="module")
def vertex(mock: MockServer) -> ProviderConfig:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    credentials = {"type": "service_account", "project_id": "proj-1", "private_key_id": "k1", "private_key": pem,
                   "client_email": "svc@proj-1.iam.gserviceaccount.com", "token_uri": mock.url + "/vertex/token"}
    return ProviderConfig(provider_type=ProviderType.VERTEX, name="vx", project="proj-1", location="us-central1",
                          base_url=mock.url + "/vertex", credentials_json=msgspec.json.encode(credentials).decode())


async def send(adapter: GeminiAdapter, provider: ProviderConfig, call: HttpCall, transport: Transport) -> bytes:
    call = await adapter.authorize(provider, call, transport)
    upstream = await transport.open(provider, call)
    body = await upstream.read(provider)
    if upstream.status >= 400:
        raise adapter.parse_error(provider, upstream.status, upstream.headers, body)
    return body


async def chat(adapter: GeminiAdapter, provider: ProviderConfig, request: ChatRequest,
               transport: Transport) -> ChatResponse:
    if not request.stream:
        body = await send(adapter, provider, adapter.chat_call(provider, request), transport)
        return adapter.parse_chat(provider, body)
    call = await adapter.authorize(provider, adapter.chat_call(provider, request), transport)
    upstream = await transport.open(provider, call)
    if upstream.status >= 400:
        raise adapter.parse_error(provider, upstream.status, upstream.headers, await upstream.read(provider))
    decoder, acc = adapter.stream_decoder(provider, request), Accumulator()
    try:
        while chunk := await upstream.read_chunk(provider):
            for frame in decoder.feed(chunk):
                for event in frame.events:
                    acc.add(event)
        for frame in decoder.close():
            for event in frame.events:
                acc.add(event)
    finally:
        upstream.close()
    return acc.response()


def ask(text: str, model: str = "gemini-2.0-flash", **kw: object) -> ChatRequest:
    return ChatRequest(model=model, messages=[Message(role="user", parts=[TextPart(text)])], **kw)


@pytest.mark.parametrize("stream", [False, True])
async def test_text(mock: MockServer, transport: Transport, stream: bool) -> None:
    response = await chat(GEMINI, gemini(mock), ask("Hello there", stream=stream), transport)
    assert response.parts == [TextPart("Echo: Hello there")]
    assert response.stop_reason == "end" and response.model == "gemini-2.0-flash"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 5)


async def test_thinking_model_counts_its_reasoning(mock: MockServer, transport: Transport) -> None:
    response = await chat(GEMINI, gemini(mock), ask("Hello there", model="gemini-2.5-flash", reasoning_effort="low",
                                                    stream=True), transport)
    assert response.parts == [ThinkingPart(text="Considering: Hello there"), TextPart("Echo: Hello there")]
    assert (response.usage.output_tokens, response.usage.reasoning_tokens) == (11, 6)


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_round_trip_with_signatures(mock: MockServer, transport: Transport, stream: bool) -> None:
    # Gemini 3 refuses a history whose calls lost their signatures; the mock checks it as Gemini does.
    model, provider = "gemini-3-flash-preview", gemini(mock)
    question = Message(role="user", parts=[TextPart("What is the weather in Lisbon?")])
    first = await chat(GEMINI, provider, ChatRequest(model=model, messages=[question], tools=[WEATHER], stream=stream),
                       transport)
    signed, call = first.parts
    assert isinstance(signed, ThinkingPart) and signed.signature.startswith("gemini:")
    assert (call.name, msgspec.json.decode(call.arguments)) == ("get_weather", {"city": "Lisbon"})
    assert first.stop_reason == "tool_calls"
    history = [question, Message(role="assistant", parts=first.parts),
               Message(role="tool", parts=[ToolResultPart(tool_call_id=call.id, content=[TextPart("Sunny, 24C")])])]
    second = await chat(GEMINI, provider, ChatRequest(model=model, messages=history, tools=[WEATHER], stream=stream),
                        transport)
    assert second.text == "Tool results: get_weather: Sunny, 24C" and second.stop_reason == "end"
    # a client that dropped the thinking part (an OpenAI-style client does) still gets through
    history[1] = Message(role="assistant", parts=[call])
    third = await chat(GEMINI, provider, ChatRequest(model=model, messages=history, tools=[WEATHER]), transport)
    assert third.text == "Tool results: get_weather: Sunny, 24C"


async def test_json_schema_and_image(mock: MockServer, transport: Transport) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer"}},
              "required": ["city", "rank"]}
    response = await chat(GEMINI, gemini(mock), ask("Largest city?", response_format=ResponseFormat(
        type="json_schema", schema=schema)), transport)
    assert msgspec.json.decode(response.text) == {"city": "Paris", "rank": 1}
    image = ChatRequest(model="gemini-2.0-flash", messages=[Message(role="user", parts=[
        TextPart("What is this?"), ImagePart(data=PNG, media_type="image/png")])])
    seen = await chat(GEMINI, gemini(mock), image, transport)
    assert seen.text == "Echo: What is this? [image image/png 70 bytes]"
    assert seen.usage.input_tokens == 3 + 4 + 4 + 85


async def test_errors(mock: MockServer, transport: Transport) -> None:
    with pytest.raises(UpstreamAuthError, match="gm: API key not valid. Please pass a valid API key. "
                                                r"\(API_KEY_INVALID\)"):
        await chat(GEMINI, gemini(mock, key="bad-key"), ask("hi"), transport)
    with pytest.raises(UpstreamModelNotFoundError, match="models/no-such-model is not found"):
        await chat(GEMINI, gemini(mock), ask("hi", model="no-such-model"), transport)
    with pytest.raises(UpstreamRateLimitError) as limited:
        await chat(GEMINI, gemini(mock, prefix="/fault/status=429,retry_after=2"), ask("hi"), transport)
    assert limited.value.retry_after == 2.0
    with pytest.raises(UpstreamUnavailableError) as down:
        await chat(GEMINI, gemini(mock, prefix="/fault/status=503"), ask("hi", stream=True), transport)
    assert down.value.retryable and down.value.upstream_status == 503
    bad_history = ChatRequest(model="gemini-2.0-flash", messages=[
        Message(role="assistant", parts=[ToolCallPart(id="c1", name="f")]), Message(role="user", parts=[TextPart("x")])])
    with pytest.raises(UpstreamInvalidRequestError, match="function call turn comes immediately after a user turn"):
        await chat(GEMINI, gemini(mock), bad_history, transport)


async def test_stream_cut_mid_way(mock: MockServer, transport: Transport) -> None:
    with pytest.raises(ProviderError) as cut:
        await chat(GEMINI, gemini(mock, prefix="/fault/cut_after=2"), ask("one two three four five", stream=True),
                   transport)
    assert isinstance(cut.value, UpstreamUnavailableError) and cut.value.retryable


async def test_models_and_embeddings(mock: MockServer, transport: Transport) -> None:
    provider = gemini(mock)
    models = GEMINI.parse_models(provider, await send(GEMINI, provider, GEMINI.models_call(provider), transport))
    assert "gemini-2.5-flash" in models and "gemini-embedding-001" in models
    request = EmbeddingRequest(model="gemini-embedding-001", inputs=["first text", "second"], dimensions=16,
                               input_type="search_document")
    bodies = [await send(GEMINI, provider, call, transport) for call in GEMINI.embeddings_calls(provider, request)]
    result = GEMINI.parse_embeddings(provider, request, bodies)
    assert [len(v) for v in result.vectors] == [16, 16] and result.vectors[0] != result.vectors[1]
    assert (result.usage.input_tokens, result.estimated) == (3 + 2, True)


@pytest.mark.parametrize("stream", [False, True])
async def test_vertex_chat(mock: MockServer, transport: Transport, vertex: ProviderConfig, stream: bool) -> None:
    response = await chat(VERTEX, vertex, ask("Hello Vertex", stream=stream), transport)
    assert response.text == "Echo: Hello Vertex" and response.stop_reason == "end"
    first = await chat(VERTEX, vertex, ask("Weather in Oslo?", tools=[WEATHER], stream=stream), transport)
    [call] = first.tool_calls
    assert len(call.id) == 8 and not call.id.startswith("call_")  # Vertex names its calls; the id is kept
    assert msgspec.json.decode(call.arguments) == {"city": "Oslo"}


async def test_vertex_models_embeddings_and_validation(mock: MockServer, transport: Transport,
                                                       vertex: ProviderConfig) -> None:
    listing = await send(VERTEX, vertex, VERTEX.validate_call(vertex), transport)
    assert "gemini-2.5-pro" in VERTEX.parse_models(vertex, listing)
    request = EmbeddingRequest(model="gemini-embedding-001", inputs=["alpha", "beta gamma"], dimensions=8)
    calls = VERTEX.embeddings_calls(vertex, request)
    assert len(calls) == 2  # gemini-embedding takes one instance per request
    result = VERTEX.parse_embeddings(vertex, request, [await send(VERTEX, vertex, c, transport) for c in calls])
    assert [len(v) for v in result.vectors] == [8, 8]
    assert (result.usage.input_tokens, result.estimated) == (2 + 3, False)


async def test_vertex_without_a_token_is_refused(mock: MockServer, transport: Transport,
                                                 vertex: ProviderConfig) -> None:
    call = VERTEX.chat_call(vertex, ask("hi"))  # not authorized
    upstream = await transport.open(vertex, call)
    error = VERTEX.parse_error(vertex, upstream.status, upstream.headers, await upstream.read(vertex))
    assert isinstance(error, UpstreamAuthError) and "CREDENTIALS_MISSING" in error.message
