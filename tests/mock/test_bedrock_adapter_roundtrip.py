"""Byway's own Bedrock adapter against the Bedrock mock, through the whole engine (``LLMManager``): signed
calls over the real transport, JSON and event-stream answers, tools, JSON mode, images, embeddings, the
model list and the errors, each arriving as the right typed error."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from byway import ChatCompletionRequest, ChatMessage, LLMManager, ProviderConfig, ProviderType
from byway.core import (
    ChatRequest,
    EmbeddingRequest,
    Finish,
    ImagePart,
    Message,
    ResponseFormat,
    TextDelta,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolCallStart,
    ToolChoice,
    ToolResultPart,
    UpstreamAuthError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
    UsageReport,
)
from byway.mock import MockServer

NOVA = "us.amazon.nova-micro-v1:0"
CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
WEATHER = Tool(name="get_weather", description="Current weather",
               parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def aws(server: MockServer, name: str = "aws", prefix: str = "", **kw: Any) -> ProviderConfig:
    kw.setdefault("aws_access_key_id", "AKIDROUNDTRIP")
    kw.setdefault("aws_secret_access_key", "secret")
    return ProviderConfig(provider_type=ProviderType.BEDROCK, name=name, base_url=server.url + prefix + "/bedrock",
                          region="us-east-1", **kw)


def ask(text: str, model: str = f"aws:{NOVA}", **kw: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=[Message(role="user", parts=[TextPart(text)])], **kw)


async def test_chat_completion(mock: MockServer) -> None:
    async with LLMManager([aws(mock)]) as manager:
        response = await manager.chat_completion(ChatCompletionRequest(
            messages=[ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Hello")],
            model=f"aws:{NOVA}", max_tokens=50, temperature=0.3))
    assert response.text == "Echo: Hello"
    assert (response.stop_reason, response.provider) == ("end", "aws")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3 + 7 + 6, 3)
    sent = [r for r in mock.requests() if r["path"] == f"/bedrock/model/{NOVA}/converse"][-1]
    assert sent["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDROUNDTRIP/")
    assert sent["body"]["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.3}


async def test_stream(mock: MockServer) -> None:
    async with LLMManager([aws(mock)]) as manager:
        events = [e async for e in manager.stream(ask("Hello stream"))]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Echo: Hello stream"
    assert [e for e in events if isinstance(e, Finish)] == [Finish(stop_reason="end")]
    usage = next(e.usage for e in events if isinstance(e, UsageReport))
    assert (usage.input_tokens, usage.output_tokens) == (3 + 4 + 3, 5)


async def test_stop_sequence_and_max_tokens(mock: MockServer) -> None:
    async with LLMManager([aws(mock)]) as manager:
        claude = await manager.chat_completion(ask("alpha STOP beta", model=f"aws:{CLAUDE}", stop=["STOP"]))
        nova = await manager.chat_completion(ask("alpha STOP beta", stop=["STOP"]))
        cut = await manager.chat_completion(ask("one two three four five", max_tokens=2))
    assert (claude.text, claude.stop_reason, claude.stop_sequence) == ("Echo: alpha ", "stop_sequence", "STOP")
    assert (nova.text, nova.stop_reason, nova.stop_sequence) == ("Echo: alpha ", "end", None)
    assert (cut.text, cut.stop_reason) == ("Echo: on", "length")


async def test_tool_call_and_result_round_trip(mock: MockServer) -> None:
    async with LLMManager([aws(mock)]) as manager:
        first = await manager.chat_completion(ask("Weather in Madrid?", model=f"aws:{CLAUDE}", tools=[WEATHER]))
        (call,) = first.tool_calls
        assert (call.name, json.loads(call.arguments), first.stop_reason) == (
            "get_weather", {"city": "Madrid"}, "tool_calls")
        second = await manager.chat_completion(ChatRequest(model=f"aws:{CLAUDE}", tools=[WEATHER], messages=[
            Message(role="user", parts=[TextPart("Weather in Madrid?")]),
            Message(role="assistant", parts=[call]),
            Message(role="tool", parts=[ToolResultPart(tool_call_id=call.id, content=[TextPart("Hot, 35C")])])]))
        assert second.text == "Tool results: get_weather: Hot, 35C"
        streamed = [e async for e in manager.stream(ask("Weather in Porto?", model=f"aws:{CLAUDE}", tools=[WEATHER],
                                                        tool_choice=ToolChoice(mode="required")))]
    (start,) = [e for e in streamed if isinstance(e, ToolCallStart)]
    assert start.name == "get_weather" and start.id.startswith("tooluse_")
    arguments = "".join(e.arguments for e in streamed if type(e).__name__ == "ToolCallDelta")
    assert json.loads(arguments) == {"city": "Porto"}


async def test_json_mode_forced_tool_and_native_output(mock: MockServer) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer"}},
              "required": ["city", "rank"], "additionalProperties": False}
    fmt = ResponseFormat(type="json_schema", schema=schema, name="City", strict=True)
    async with LLMManager([aws(mock)]) as manager:
        forced = await manager.chat_completion(ask("Biggest city?", response_format=fmt))
        native = await manager.chat_completion(ask("Biggest city?", model="aws:zai.glm-4.7-flash",
                                                   response_format=fmt))
        streamed = [e async for e in manager.stream(ask("Biggest city?", response_format=fmt))]
    assert json.loads(forced.text) == json.loads(native.text) == {"city": "Paris", "rank": 1}
    assert forced.tool_calls == [] and forced.stop_reason == "end"
    assert json.loads("".join(e.text for e in streamed if isinstance(e, TextDelta))) == {"city": "Paris", "rank": 1}
    bodies = [r["body"] for r in mock.requests() if r["path"].endswith(("/converse", "/converse-stream"))][-3:]
    assert bodies[0]["toolConfig"]["toolChoice"] == {"tool": {"name": "byway_json_response"}}
    assert "outputConfig" in bodies[1] and "toolConfig" not in bodies[1]


async def test_image_and_thinking(mock: MockServer) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()
    async with LLMManager([aws(mock)]) as manager:
        seen = await manager.chat_completion(ChatRequest(model=f"aws:{NOVA}", messages=[Message(role="user", parts=[
            TextPart("Describe"), ImagePart(data=png, media_type="image/png")])]))
        thought = await manager.chat_completion(ask("Why?", model=f"aws:{CLAUDE}", reasoning_effort="low"))
    assert seen.text == "Echo: Describe [image image/png 32 bytes]"
    (thinking,) = [p for p in thought.parts if isinstance(p, ThinkingPart)]
    assert thinking.text == "Considering: Why?" and thinking.signature
    assert thought.text == "Echo: Why?"


async def test_arn_model_and_api_key(mock: MockServer) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/prof1"
    keyed = ProviderConfig(provider_type=ProviderType.BEDROCK, name="keyed", base_url=mock.url + "/bedrock",
                           api_key="ABSKa2V5")
    async with LLMManager([aws(mock), keyed]) as manager:
        by_arn = await manager.chat_completion(ask("arn?", model=f"aws:{arn}"))
        by_key = await manager.chat_completion(ask("key?", model=f"keyed:{NOVA}"))
    assert (by_arn.text, by_key.text) == ("Echo: arn?", "Echo: key?")
    assert mock.requests()[-1]["headers"]["Authorization"] == "Bearer ABSKa2V5"


async def test_errors_arrive_typed(fresh: MockServer) -> None:
    providers = [aws(fresh), aws(fresh, "badkey", aws_access_key_id="badAKID"),
                 aws(fresh, "limited", prefix="/fault/status=429,retry_after=4"),
                 aws(fresh, "down", prefix="/fault/status=503"), aws(fresh, "cut", prefix="/fault/cut_after=2")]
    async with LLMManager(providers) as manager:
        with pytest.raises(UpstreamModelNotFoundError) as missing:
            await manager.chat_completion(ask("x", model="aws:no-such-model-v1:0"))
        assert missing.value.status == 404 and "model identifier is invalid" in missing.value.message
        with pytest.raises(UpstreamAuthError, match="UnrecognizedClientException"):
            await manager.chat_completion(ask("x", model=f"badkey:{NOVA}"))
        with pytest.raises(UpstreamRateLimitError) as limited:
            await manager.chat_completion(ask("x", model=f"limited:{NOVA}"))
        assert limited.value.retry_after == 4.0 and "ThrottlingException" in limited.value.message
        with pytest.raises(UpstreamUnavailableError, match="ServiceUnavailableException"):
            await manager.chat_completion(ask("x", model=f"down:{NOVA}"))
        received: list[Any] = []
        with pytest.raises(UpstreamUnavailableError):
            async for event in manager.stream(ask("one two three", model=f"cut:{NOVA}")):
                received.append(event)
        assert any(isinstance(e, TextDelta) for e in received)
        assert not any(isinstance(e, Finish) for e in received)


async def test_models_and_health(mock: MockServer) -> None:
    async with LLMManager([aws(mock), aws(mock, "badkey", aws_access_key_id="badAKID")]) as manager:
        models = await manager.list_models()
        health = await manager.check_provider_health()
    assert "amazon.nova-micro-v1:0" in models["aws"]
    assert "anthropic.claude-3-sonnet-20240229-v1:0:28k" not in models["aws"]  # provisioned throughput only
    assert health == {"aws": True, "badkey": False}


async def test_embeddings(mock: MockServer) -> None:
    async with LLMManager([aws(mock)]) as manager:
        titan = (await manager.engine.embed(EmbeddingRequest(model="aws:amazon.titan-embed-text-v2:0",
                                                             inputs=["hello world", "bye"], dimensions=256))).response
        cohere = (await manager.engine.embed(EmbeddingRequest(model="aws:cohere.embed-english-v3",
                                                              inputs=["alpha", "beta", "gamma"],
                                                              input_type="search_query"))).response
    assert [len(v) for v in titan.vectors] == [256, 256]
    assert (titan.usage.input_tokens, titan.estimated) == (3 + 1, False)
    assert [len(v) for v in cohere.vectors] == [1024] * 3
    assert cohere.estimated and cohere.usage.input_tokens == 2 + 1 + 2
    assert titan.vectors[0] != titan.vectors[1]


async def test_tool_history_without_tools_is_accepted(mock: MockServer) -> None:
    """Converse refuses tool blocks without a toolConfig; the adapter adds placeholder specs, so this works."""
    async with LLMManager([aws(mock)]) as manager:
        response = await manager.chat_completion(ChatRequest(model=f"aws:{NOVA}", messages=[
            Message(role="user", parts=[TextPart("Weather?")]),
            Message(role="assistant", parts=[ToolCallPart(id="tooluse_1", name="get_weather", arguments="{}")]),
            Message(role="tool", parts=[ToolResultPart(tool_call_id="tooluse_1", content=[TextPart("Rain")])]),
            Message(role="user", parts=[TextPart("Thanks, summarise.")])]))
    assert response.text == "Tool results: get_weather: Rain"  # the result and the text share the last user turn
    body = mock.requests()[-1]["body"]
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert body["messages"][-1]["content"][1] == {"text": "Thanks, summarise."}
