"""Byway's Cohere adapter against the Cohere mock over loopback, through the real transport: chat, streams,
a tool round trip, key validation, models, embeddings in batches, and error answers as typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from byway.core import (
    Accumulator,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    Message,
    ProviderError,
    TextPart,
    ThinkingPart,
    Tool,
    ToolChoice,
    ToolResultPart,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
)
from byway.mock import MockServer
from byway.providers.base import HttpCall
from byway.providers.cohere import CohereAdapter
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.registry import adapter_for
from byway.providers.transport import Transport

ADAPTER = adapter_for(ProviderType.COHERE)
WEATHER = Tool(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                               "required": ["city"]})


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    sender = Transport()
    yield sender
    await sender.close()


def provider(server: MockServer, key: str = "co-test", prefix: str = "") -> ProviderConfig:
    return ProviderConfig(provider_type=ProviderType.COHERE, name="co", api_key=key,
                          base_url=server.url + prefix + "/cohere")


def user(text: str) -> Message:
    return Message(role="user", parts=[TextPart(text)])


async def send(transport: Transport, config: ProviderConfig, call: HttpCall) -> bytes:
    upstream = await transport.open(config, call)
    body = await upstream.read(config)
    if upstream.status >= 400:
        raise ADAPTER.parse_error(config, upstream.status, upstream.headers, body)
    return body


async def complete(transport: Transport, config: ProviderConfig, request: ChatRequest) -> ChatResponse:
    return ADAPTER.parse_chat(config, await send(transport, config, ADAPTER.chat_call(config, request)))


async def stream(transport: Transport, config: ProviderConfig, request: ChatRequest) -> ChatResponse:
    upstream = await transport.open(config, ADAPTER.chat_call(config, request))
    if upstream.status >= 400:
        raise ADAPTER.parse_error(config, upstream.status, upstream.headers, await upstream.read(config))
    decoder = ADAPTER.stream_decoder(config, request)
    acc = Accumulator()
    while chunk := await upstream.read_chunk(config):
        for frame in decoder.feed(chunk):
            for event in frame.events:
                acc.add(event)
    for frame in decoder.close():
        for event in frame.events:
            acc.add(event)
    return acc.response()


async def test_chat_and_stream_agree(mock: MockServer, transport: Transport) -> None:
    config = provider(mock)
    request = ChatRequest(model="command-r7b-12-2024", messages=[user("Hello Cohere")], temperature=0.3, top_p=1.0)
    whole = await complete(transport, config, request)
    assert isinstance(ADAPTER, CohereAdapter)
    assert whole.text == "Echo: Hello Cohere"
    assert whole.stop_reason == "end"
    assert (whole.usage.input_tokens, whole.usage.output_tokens) == (10, 5)
    assert whole.extra["usage"]["tokens"]["input_tokens"] == 510
    streamed = await stream(transport, config, msgspec.structs.replace(request, stream=True))
    assert (streamed.parts, streamed.usage, streamed.stop_reason) == (whole.parts, whole.usage, whole.stop_reason)
    assert streamed.model == "command-r7b-12-2024"


async def test_a_forced_tool_then_its_result(mock: MockServer, transport: Transport) -> None:
    config = provider(mock)
    clock = Tool(name="get_time", parameters={"type": "object", "properties": {}})
    request = ChatRequest(model="command-r7b-12-2024", messages=[user("How warm is it in Oslo?")],
                          tools=[clock, WEATHER], tool_choice=ToolChoice("tool", "get_weather"), stream=True)
    called = await stream(transport, config, request)
    assert called.stop_reason == "tool_calls"
    (call,) = called.tool_calls
    assert call.name == "get_weather" and msgspec.json.decode(call.arguments) == {"city": "Oslo"}
    assert called.thinking == "I will use the get_weather tool to answer."
    follow_up = ChatRequest(model="command-r7b-12-2024", tools=[clock, WEATHER], messages=[
        user("How warm is it in Oslo?"), Message(role="assistant", parts=called.parts),
        Message(role="tool", parts=[ToolResultPart(tool_call_id=call.id, content=[TextPart("-3C")])])])
    answer = await complete(transport, config, follow_up)
    assert answer.text == "Tool results: get_weather: -3C"
    assert not any(isinstance(p, ThinkingPart) for p in answer.parts)


async def test_models_validation_and_embeddings(mock: MockServer, transport: Transport) -> None:
    config = provider(mock)
    names = ADAPTER.parse_models(config, await send(transport, config, ADAPTER.models_call(config)))
    assert "command-a-03-2025" in names and "embed-v4.0" not in names
    assert await send(transport, config, ADAPTER.validate_call(config))
    with pytest.raises(UpstreamAuthError) as refused:
        bad = provider(mock, key="bad-key")
        await send(transport, bad, ADAPTER.validate_call(bad))
    assert refused.value.message == "co: invalid api token"
    request = EmbeddingRequest(model="embed-v4.0", inputs=[f"text number {i}" for i in range(100)], dimensions=256)
    calls = ADAPTER.embeddings_calls(config, request)
    assert len(calls) == 2
    result = ADAPTER.parse_embeddings(config, request, [await send(transport, config, c) for c in calls])
    assert len(result.vectors) == 100 and {len(v) for v in result.vectors} == {256}
    assert result.usage.input_tokens == sum(-(-len(t) // 4) for t in request.inputs)


async def test_error_answers_become_typed_errors(mock: MockServer, fresh: MockServer, transport: Transport) -> None:
    config = provider(mock)
    with pytest.raises(UpstreamModelNotFoundError) as missing:
        await complete(transport, config, ChatRequest(model="no-such-model", messages=[user("hi")]))
    assert missing.value.status == 404
    with pytest.raises(UpstreamInvalidRequestError) as invalid:
        await complete(transport, config, ChatRequest(model="command-r7b-12-2024", messages=[]))
    assert "messages must be a non-empty list" in invalid.value.message
    limited = provider(fresh, prefix="/fault/status=429,retry_after=2")
    with pytest.raises(UpstreamRateLimitError) as caught:
        await complete(transport, limited, ChatRequest(model="command-r7b-12-2024", messages=[user("hi")]))
    assert caught.value.retry_after == 2.0


async def test_a_cut_stream_is_an_upstream_failure(fresh: MockServer, transport: Transport) -> None:
    config = provider(fresh, prefix="/fault/cut_after=4")
    request = ChatRequest(model="command-r7b-12-2024", messages=[user("several words to stream here")], stream=True)
    with pytest.raises(ProviderError) as caught:
        await stream(transport, config, request)
    assert isinstance(caught.value, UpstreamUnavailableError)
    assert caught.value.retryable is True
