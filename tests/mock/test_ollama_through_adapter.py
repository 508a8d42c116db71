"""Byway's Ollama adapter against the Ollama mock over loopback, through the real transport, in both modes:
native chat and NDJSON streams, a tool round trip, a mid-stream error line, models, embeddings, errors; and the
OpenAI-compatible API through the same adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

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
    Tool,
    ToolResultPart,
    UpstreamModelNotFoundError,
    UpstreamUnavailableError,
)
from byway.mock import MockServer
from byway.providers.base import HttpCall
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.registry import adapter_for
from byway.providers.transport import Transport

ADAPTER = adapter_for(ProviderType.OLLAMA)
WEATHER = Tool(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                               "required": ["city"]})
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    sender = Transport()
    yield sender
    await sender.close()


def provider(server: MockServer, api: str | None = None, prefix: str = "") -> ProviderConfig:
    return ProviderConfig(provider_type=ProviderType.OLLAMA, name="ollama", base_url=server.url + prefix + "/ollama",
                          api=api)


def user(*parts: TextPart | ImagePart) -> Message:
    return Message(role="user", parts=list(parts))


async def send(transport: Transport, config: ProviderConfig, call: HttpCall) -> bytes:
    upstream = await transport.open(config, call)
    body = await upstream.read(config)
    if upstream.status >= 400:
        raise ADAPTER.parse_error(config, upstream.status, upstream.headers, body)
    return body


async def complete(transport: Transport, config: ProviderConfig, request: ChatRequest) -> ChatResponse:
    return ADAPTER.parse_chat(config, await send(transport, config, ADAPTER.chat_call(config, request)))


async def stream(transport: Transport, config: ProviderConfig, request: ChatRequest,
                 acc: Accumulator | None = None) -> ChatResponse:
    acc = acc or Accumulator()
    upstream = await transport.open(config, ADAPTER.chat_call(config, request))
    if upstream.status >= 400:
        raise ADAPTER.parse_error(config, upstream.status, upstream.headers, await upstream.read(config))
    decoder = ADAPTER.stream_decoder(config, request)
    while chunk := await upstream.read_chunk(config):
        for frame in decoder.feed(chunk):
            for event in frame.events:
                acc.add(event)
    for frame in decoder.close():
        for event in frame.events:
            acc.add(event)
    return acc.response()


@pytest.mark.parametrize("api", [None, "openai"])
async def test_chat_and_stream_agree_in_both_modes(mock: MockServer, transport: Transport, api: str | None) -> None:
    config = provider(mock, api)
    request = ChatRequest(model="llama3.1:8b", messages=[user(TextPart("Hello Ollama"))], max_tokens=50, seed=1)
    whole = await complete(transport, config, request)
    assert isinstance(ADAPTER, OllamaAdapter)
    assert whole.text == "Echo: Hello Ollama"
    assert whole.stop_reason == "end"
    assert (whole.usage.input_tokens, whole.usage.output_tokens) == (10, 5)
    streamed = await stream(transport, config, msgspec.structs.replace(request, stream=True))
    assert (streamed.parts, streamed.usage, streamed.stop_reason) == (whole.parts, whole.usage, whole.stop_reason)
    assert streamed.model == whole.model == "llama3.1:8b"


async def test_native_tool_round_trip_and_images(mock: MockServer, transport: Transport) -> None:
    config = provider(mock)
    asked = ChatRequest(model="llama3.1:8b", messages=[user(TextPart("How warm is Oslo?"))], tools=[WEATHER],
                        stream=True)
    called = await stream(transport, config, asked)
    assert called.stop_reason == "tool_calls"
    (call,) = called.tool_calls
    assert call.name == "get_weather" and msgspec.json.decode(call.arguments) == {"city": "Oslo"}
    follow_up = msgspec.structs.replace(asked, stream=False, messages=[
        *asked.messages, Message(role="assistant", parts=called.parts),
        Message(role="tool", parts=[ToolResultPart(tool_call_id=call.id, content=[TextPart("-3C")])])])
    assert (await complete(transport, config, follow_up)).text == "Tool results: get_weather: -3C"
    seen = await complete(transport, config, ChatRequest(model="llava", messages=[
        user(TextPart("What is this?"), ImagePart(data=PNG, media_type="image/png"))]))
    assert seen.text == "Echo: What is this? [image image/png 70 bytes]"


async def test_native_thinking_and_json_schema(mock: MockServer, transport: Transport) -> None:
    config = provider(mock)
    thought = await stream(transport, config, ChatRequest(model="qwen3:0.6b", messages=[user(TextPart("Why?"))],
                                                          reasoning_effort="high", stream=True))
    assert (thought.thinking, thought.text) == ("Considering: Why?", "Echo: Why?")
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    shaped = await complete(transport, config, ChatRequest(model="llama3.1:8b", messages=[user(TextPart("Age?"))],
                                                           response_format=ResponseFormat("json_schema", schema=schema)))
    assert set(msgspec.json.decode(shaped.text)) == {"age"}


async def test_a_mid_stream_error_line_raises_after_the_text_before_it(fresh: MockServer, transport: Transport) -> None:
    config = provider(fresh)
    acc = Accumulator()
    request = ChatRequest(model="llama3.1:8b", messages=[user(TextPart("a few words here"))], stream=True)
    fault = msgspec.structs.replace(config, headers={"x-mock-fault": "error_after=3"})
    with pytest.raises(ProviderError) as caught:
        await stream(transport, fault, request, acc)
    assert isinstance(caught.value, UpstreamUnavailableError)
    assert "unexpected EOF" in caught.value.message
    assert acc.response().text == "Echo: a few"


async def test_models_embeddings_and_errors(mock: MockServer, transport: Transport) -> None:
    config = provider(mock)
    names = ADAPTER.parse_models(config, await send(transport, config, ADAPTER.models_call(config)))
    assert names[:2] == ["llama3.1:8b", "qwen2.5:7b"]
    assert await send(transport, config, ADAPTER.validate_call(config))
    openai_mode = provider(mock, "openai")
    assert ADAPTER.parse_models(openai_mode, await send(transport, openai_mode, ADAPTER.models_call(openai_mode))) == (
        names)
    request = EmbeddingRequest(model="nomic-embed-text", inputs=["alpha", "beta gamma"], dimensions=32)
    calls = ADAPTER.embeddings_calls(config, request)
    result = ADAPTER.parse_embeddings(config, request, [await send(transport, config, c) for c in calls])
    assert [len(v) for v in result.vectors] == [32, 32]
    assert result.usage.input_tokens == 2 + 3
    for mode in (config, openai_mode):
        with pytest.raises(UpstreamModelNotFoundError) as missing:
            await complete(transport, mode, ChatRequest(model="no-such-model", messages=[user(TextPart("hi"))]))
        assert "no-such-model" in missing.value.message
