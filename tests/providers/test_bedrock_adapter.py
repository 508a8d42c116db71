"""The Bedrock adapter's request building, URLs, credentials, model list and embeddings, case by case."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    EmbeddingRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UpstreamAuthError,
    UpstreamUnavailableError,
)
from byway.providers.anthropic_request import JSON_TOOL
from byway.providers.bedrock import BedrockAdapter
from byway.providers.bedrock_request import base_model, build_body
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.registry import adapter_for

ADAPTER = BedrockAdapter(spec_for(ProviderType.BEDROCK))
KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
PROVIDER = ProviderConfig(provider_type=ProviderType.BEDROCK, name="aws", region="eu-west-3", **KEYS)
NOVA = "us.amazon.nova-micro-v1:0"
CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
WEATHER = Tool(name="get_weather", description="Current weather",
               parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def user(text: str) -> Message:
    return Message(role="user", parts=[TextPart(text)])


def body_for(**kw: Any) -> dict[str, Any]:
    kw.setdefault("model", NOVA)
    kw.setdefault("messages", [user("Hello")])
    return build_body(ChatRequest(**kw))


# -- wiring ------------------------------------------------------------------------------------------------------


def test_registry_makes_the_bedrock_adapter() -> None:
    adapter = adapter_for("bedrock")
    assert isinstance(adapter, BedrockAdapter)
    assert (adapter.family, adapter.inline_images) == ("bedrock", True)


def test_chat_call_url_headers_and_signature() -> None:
    call = ADAPTER.chat_call(PROVIDER, ChatRequest(model=NOVA, messages=[user("Hello")]))
    assert call.method == "POST"
    assert call.url == "https://bedrock-runtime.eu-west-3.amazonaws.com/model/us.amazon.nova-micro-v1:0/converse"
    assert msgspec.json.decode(call.body) == {"messages": [{"role": "user", "content": [{"text": "Hello"}]}],
                                              "inferenceConfig": {}}
    headers = {k.lower(): v for k, v in call.headers.items()}
    assert headers["content-type"] == headers["accept"] == "application/json"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-3/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date, Signature=" in \
        headers["authorization"]
    assert len(headers["x-amz-date"]) == 16 and headers["x-amz-date"].endswith("Z")
    assert "x-amz-security-token" not in headers


def test_stream_call_and_default_region() -> None:
    provider = ProviderConfig(provider_type=ProviderType.BEDROCK, **KEYS)
    call = ADAPTER.chat_call(provider, ChatRequest(model="amazon.nova-lite-v1:0", messages=[user("x")], stream=True))
    assert call.url == "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-lite-v1:0/converse-stream"
    assert call.headers["accept"] == "application/vnd.amazon.eventstream"
    assert "/us-east-1/bedrock/aws4_request" in call.headers["Authorization"]


def test_session_token_is_sent_and_signed() -> None:
    provider = msgspec.structs.replace(PROVIDER, aws_session_token="FwoGZXIvYXdzEXAMPLETOKEN")
    call = ADAPTER.chat_call(provider, ChatRequest(model=NOVA, messages=[user("x")]))
    assert call.headers["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLETOKEN"
    assert "x-amz-security-token" in call.headers["Authorization"].split("SignedHeaders=")[1]


def test_base_url_override_and_extra_headers() -> None:
    provider = msgspec.structs.replace(PROVIDER, base_url="http://127.0.0.1:9200/bedrock", headers={"x-team": "ml"})
    call = ADAPTER.chat_call(provider, ChatRequest(model=NOVA, messages=[user("x")]))
    assert call.url == "http://127.0.0.1:9200/bedrock/model/us.amazon.nova-micro-v1:0/converse"
    assert call.headers["x-team"] == "ml"
    assert "x-team" in call.headers["Authorization"].split("SignedHeaders=")[1]


def test_api_key_is_a_bearer_token_and_nothing_is_signed() -> None:
    provider = ProviderConfig(provider_type=ProviderType.BEDROCK, api_key="ABSKQmVkcm9ja0FQSUtleQ==")
    call = ADAPTER.chat_call(provider, ChatRequest(model=NOVA, messages=[user("x")]))
    assert call.headers["authorization"] == "Bearer ABSKQmVkcm9ja0FQSUtleQ=="
    assert not any(k.lower().startswith("x-amz") for k in call.headers)


def test_no_credentials_is_an_auth_error_before_anything_is_sent() -> None:
    provider = ProviderConfig(provider_type=ProviderType.BEDROCK, name="aws", aws_access_key_id="AKID")
    with pytest.raises(UpstreamAuthError, match="no AWS credentials"):
        ADAPTER.chat_call(provider, ChatRequest(model=NOVA, messages=[user("x")]))


def test_models_call_and_listing() -> None:
    call = ADAPTER.models_call(PROVIDER)
    assert (call.method, call.url, call.body) == ("GET", "https://bedrock.eu-west-3.amazonaws.com/foundation-models",
                                                  None)
    assert "content-type" not in call.headers and "/eu-west-3/bedrock/" in call.headers["Authorization"]
    assert ADAPTER.validate_call(PROVIDER).url == call.url
    override = msgspec.structs.replace(PROVIDER, base_url="http://127.0.0.1:9/bedrock")
    assert ADAPTER.models_call(override).url == "http://127.0.0.1:9/bedrock/foundation-models"
    listing = {"modelSummaries": [
        {"modelId": "amazon.nova-micro-v1:0", "inferenceTypesSupported": ["ON_DEMAND", "INFERENCE_PROFILE"]},
        {"modelId": "anthropic.claude-sonnet-4-5-20250929-v1:0", "inferenceTypesSupported": ["INFERENCE_PROFILE"]},
        {"modelId": "anthropic.claude-3-sonnet-20240229-v1:0:28k", "inferenceTypesSupported": ["PROVISIONED"]},
        {"modelId": "amazon.nova-micro-v1:0", "inferenceTypesSupported": ["ON_DEMAND"]},
        {"modelId": "cohere.embed-english-v3"}]}
    assert ADAPTER.parse_models(PROVIDER, msgspec.json.encode(listing)) == [
        "amazon.nova-micro-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", "cohere.embed-english-v3"]
    with pytest.raises(UpstreamUnavailableError):
        ADAPTER.parse_models(PROVIDER, b"<html>")


def test_base_model_strips_cross_region_prefixes() -> None:
    assert base_model("us.amazon.nova-micro-v1:0") == "amazon.nova-micro-v1:0"
    assert base_model("global.anthropic.claude-sonnet-4-5-20250929-v1:0") == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert base_model("amazon.nova-micro-v1:0") == "amazon.nova-micro-v1:0"
    assert base_model("arn:aws:bedrock:us-east-1:1:inference-profile/x") == "arn:aws:bedrock:us-east-1:1:inference-profile/x"


# -- messages ----------------------------------------------------------------------------------------------------


def test_system_developer_and_role_merging() -> None:
    body = body_for(messages=[
        Message(role="system", parts=[TextPart("Be brief.")]),
        user("Hi"),
        Message(role="developer", parts=[TextPart("Use French."), TextPart("  ")]),
        user("again"),
        Message(role="assistant", parts=[TextPart("Bonjour")]),
        Message(role="assistant", parts=[TextPart("!")]),
        user("   "),
        user("Thanks"),
    ])
    assert body["system"] == [{"text": "Be brief."}, {"text": "Use French."}]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "Hi"}, {"text": "again"}]},
        {"role": "assistant", "content": [{"text": "Bonjour"}, {"text": "!"}]},
        {"role": "user", "content": [{"text": "Thanks"}]},
    ]


def test_tool_round_trip_blocks() -> None:
    body = body_for(tools=[WEATHER], messages=[
        user("Weather in Paris?"),
        Message(role="assistant", parts=[ToolCallPart(id="tooluse_1", name="get_weather", arguments='{"city":"Paris"}'),
                                         TextPart("Let me check.")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="tooluse_1", content=[TextPart("Sunny, 22C")])]),
        user("And tomorrow?"),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="tooluse_2", content=[], is_error=True)]),
    ])
    assert body["messages"][1] == {"role": "assistant", "content": [
        {"text": "Let me check."},  # tool calls go after the text
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}]}
    assert body["messages"][2] == {"role": "user", "content": [
        {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "Sunny, 22C"}], "status": "success"}},
        {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "error"}], "status": "error"}},
        {"text": "And tomorrow?"}]}  # tool results first in a merged user turn
    assert body["toolConfig"] == {"tools": [{"toolSpec": {
        "name": "get_weather", "description": "Current weather", "inputSchema": {"json": WEATHER.parameters}}}]}


def test_tool_call_arguments_must_be_an_object() -> None:
    with pytest.raises(InvalidRequestError, match="not a JSON object") as raised:
        body_for(messages=[user("x"), Message(role="assistant", parts=[
            ToolCallPart(id="t", name="f", arguments="[1, 2]")])])
    assert raised.value.param == "messages[1].tool_calls"
    empty = body_for(tools=[WEATHER], messages=[user("x"), Message(role="assistant", parts=[
        ToolCallPart(id="t", name="get_weather", arguments="")])])
    assert empty["messages"][1]["content"][0]["toolUse"]["input"] == {}


def test_images_inline_and_by_data_url() -> None:
    body = body_for(messages=[Message(role="user", parts=[
        TextPart("What is this?"), ImagePart(data=PNG, media_type="image/png"),
        ImagePart(url="data:image/jpeg;base64,/9j/4AAQSkZJRg=="), ImagePart(data="R0lGODlhAQABAAAAACw=")])])
    assert body["messages"][0]["content"][1:] == [
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQSkZJRg=="}}},
        {"image": {"format": "gif", "source": {"bytes": "R0lGODlhAQABAAAAACw="}}}]


def test_image_in_a_tool_result() -> None:
    body = body_for(messages=[user("x"), Message(role="assistant", parts=[ToolCallPart(id="t1", name="snap")]),
                              Message(role="tool", parts=[ToolResultPart(tool_call_id="t1", content=[
                                  TextPart("here"), ImagePart(data=PNG, media_type="image/png")])])])
    assert body["messages"][2]["content"][0]["toolResult"]["content"] == [
        {"text": "here"}, {"image": {"format": "png", "source": {"bytes": PNG}}}]


def test_remaining_image_url_and_odd_formats_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="inline data only"):
        body_for(messages=[Message(role="user", parts=[ImagePart(url="https://example.com/cat.png")])])
    with pytest.raises(InvalidRequestError, match="png, jpeg, gif and webp"):
        body_for(messages=[Message(role="user", parts=[ImagePart(data="AAAA", media_type="image/tiff")])])


def test_thinking_goes_back_only_when_signed() -> None:
    body = body_for(model=CLAUDE, messages=[user("x"), Message(role="assistant", parts=[
        ThinkingPart(text="hmm", signature="c2ln"), ThinkingPart(text="unsigned"),
        ThinkingPart(signature="cmVkYWN0ZWQ=", redacted=True), TextPart("Answer.  ")])])
    assert body["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "c2ln"}}},
        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
        {"text": "Answer."}]  # a final assistant turn loses trailing whitespace


# -- inference parameters ---------------------------------------------------------------------------------------


def test_inference_config() -> None:
    body = body_for(max_tokens=50, temperature=1.7, top_p=0.9, stop=["END", ""], seed=7, user="u1")
    assert body["inferenceConfig"] == {"maxTokens": 50, "temperature": 1.0, "topP": 0.9, "stopSequences": ["END"]}
    assert set(body) == {"messages", "inferenceConfig"}


def test_claude_is_asked_which_stop_sequence_matched() -> None:
    claude = body_for(model=CLAUDE, stop=["###"], extra={"additionalModelResponseFieldPaths": ["/usage"]},
                      extra_family="bedrock")
    assert claude["inferenceConfig"] == {"stopSequences": ["###"]}
    assert claude["additionalModelResponseFieldPaths"] == ["/usage", "/stop_sequence"]
    assert "additionalModelResponseFieldPaths" not in body_for(model=NOVA, stop=["###"])
    named = {"output": {"message": {"role": "assistant", "content": [{"text": "Count: 1, 2"}]}},
             "stopReason": "stop_sequence", "additionalModelResponseFields": {"stop_sequence": "###"},
             "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}}
    response = ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(named))
    assert (response.stop_reason, response.stop_sequence) == ("stop_sequence", "###")
    del named["additionalModelResponseFields"]
    unnamed = ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(named))
    assert (unnamed.stop_reason, unnamed.stop_sequence) == ("end", None)  # "stop_sequence" promises the sequence


def test_reasoning_effort_on_claude_is_a_thinking_budget() -> None:
    body = body_for(model=CLAUDE, reasoning_effort="medium", temperature=0.2, top_p=0.5)
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 4096}}
    assert body["inferenceConfig"] == {"maxTokens": 4096 + 8192}  # temperature and top_p left out
    capped = body_for(model=CLAUDE, reasoning_effort="high", max_tokens=3000)
    assert capped["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2999
    too_small = body_for(model=CLAUDE, reasoning_effort="high", max_tokens=500, temperature=0.3)
    assert "additionalModelRequestFields" not in too_small
    assert too_small["inferenceConfig"] == {"maxTokens": 500, "temperature": 0.3}


def test_reasoning_effort_on_gpt_oss_and_others() -> None:
    assert body_for(model="openai.gpt-oss-120b-1:0", reasoning_effort="high")["additionalModelRequestFields"] == {
        "reasoning_effort": "high"}
    assert "additionalModelRequestFields" not in body_for(model=NOVA, reasoning_effort="high")


def test_extra_fields() -> None:
    extra = {"top_k": 20, "guardrailConfig": {"guardrailIdentifier": "g1", "guardrailVersion": "1"},
             "frequency_penalty": 0.5, "logprobs": True, "service_tier": "flex",
             "additionalModelRequestFields": {"anthropic_beta": ["context-1m-2025-08-07"]}, "custom_knob": 3}
    claude = body_for(model=CLAUDE, extra=extra, extra_family="openai")
    assert claude["guardrailConfig"] == {"guardrailIdentifier": "g1", "guardrailVersion": "1"}
    assert claude["serviceTier"] == {"type": "flex"}
    assert claude["additionalModelRequestFields"] == {"top_k": 20, "anthropic_beta": ["context-1m-2025-08-07"],
                                                      "custom_knob": 3}
    nova = body_for(model=NOVA, extra={"top_k": 20, "service_tier": "auto"}, extra_family="openai")
    assert nova["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 20}}
    assert "serviceTier" not in nova


def test_client_thinking_in_extra_turns_off_sampling_and_forced_json() -> None:
    body = body_for(model=CLAUDE, temperature=0.5, extra={"thinking": {"type": "enabled", "budget_tokens": 2048}},
                    extra_family="anthropic", response_format=ResponseFormat(type="json_object"))
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert body["inferenceConfig"] == {}
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}
    assert body["system"][-1]["text"].startswith(f"Give your final answer by calling the {JSON_TOOL} tool")


# -- tools and tool choice ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("choice", "block"), [
    (None, None), (ToolChoice(mode="auto"), {"auto": {}}), (ToolChoice(mode="required"), {"any": {}}),
    (ToolChoice(mode="tool", name="get_weather"), {"tool": {"name": "get_weather"}})])
def test_tool_choice(choice: ToolChoice | None, block: dict[str, Any] | None) -> None:
    config = body_for(tools=[WEATHER], tool_choice=choice, parallel_tool_calls=False)["toolConfig"]
    assert config.get("toolChoice") == block
    assert [t["toolSpec"]["name"] for t in config["tools"]] == ["get_weather"]


def test_tool_choice_none_leaves_the_tools_out() -> None:
    body = body_for(tools=[WEATHER], tool_choice=ToolChoice(mode="none"))
    assert "toolConfig" not in body and "system" not in body


def test_tool_choice_none_with_tool_history_keeps_the_tools_and_asks_for_text() -> None:
    history = [user("x"), Message(role="assistant", parts=[ToolCallPart(id="t1", name="get_weather")]),
               Message(role="tool", parts=[ToolResultPart(tool_call_id="t1", content=[TextPart("Sunny")])])]
    body = body_for(tools=[WEATHER], tool_choice=ToolChoice(mode="none"), messages=history)
    assert body["toolConfig"] == {"tools": [body["toolConfig"]["tools"][0]]}
    assert "toolChoice" not in body["toolConfig"]
    assert body["system"] == [{"text": "Answer in text; do not call any tool in this turn."}]


def test_tool_history_without_tools_gets_placeholder_specs() -> None:
    history = [user("x"), Message(role="assistant", parts=[ToolCallPart(id="t1", name="get_weather"),
                                                           ToolCallPart(id="t2", name="get_time")]),
               Message(role="tool", parts=[ToolResultPart(tool_call_id="t1", content=[TextPart("Sunny")]),
                                           ToolResultPart(tool_call_id="t2", content=[TextPart("noon")])])]
    config = body_for(messages=history)["toolConfig"]
    assert [t["toolSpec"]["name"] for t in config["tools"]] == ["get_weather", "get_time"]
    assert config["tools"][0]["toolSpec"]["inputSchema"] == {"json": {"type": "object", "properties": {}}}
    assert "toolChoice" not in config


def test_tool_schema_without_type_gets_object() -> None:
    tool = Tool(name="f", parameters={"properties": {"a": {"type": "integer"}}})
    spec = body_for(tools=[tool])["toolConfig"]["tools"][0]["toolSpec"]
    assert spec == {"name": "f", "inputSchema": {"json": {"type": "object", "properties": {"a": {"type": "integer"}}}}}


# -- JSON mode ---------------------------------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
          "additionalProperties": False}


def test_json_schema_is_a_forced_tool_on_most_models() -> None:
    body = body_for(response_format=ResponseFormat(type="json_schema", schema=SCHEMA, name="City", strict=True))
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": JSON_TOOL}}
    spec = body["toolConfig"]["tools"][0]["toolSpec"]
    assert (spec["name"], spec["inputSchema"]) == (JSON_TOOL, {"json": SCHEMA})
    assert "'City'" in spec["description"]
    assert "outputConfig" not in body


def test_json_object_is_a_forced_tool_with_an_open_object() -> None:
    body = body_for(response_format=ResponseFormat(type="json_object"))
    assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {"json": {"type": "object"}}


def test_strict_json_schema_on_a_native_model_is_output_config() -> None:
    for model in ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "zai.glm-4.7-flash"):
        body = body_for(model=model, response_format=ResponseFormat(type="json_schema", schema=SCHEMA, name="City",
                                                                    strict=True, description="a city"))
        assert body["outputConfig"] == {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
            "schema": msgspec.json.encode(SCHEMA).decode(), "name": "City", "description": "a city"}}}}
        assert "toolConfig" not in body
    loose = body_for(model="zai.glm-4.7-flash", response_format=ResponseFormat(type="json_schema", schema=SCHEMA))
    assert "outputConfig" not in loose and loose["toolConfig"]["toolChoice"] == {"tool": {"name": JSON_TOOL}}


def test_json_mode_with_client_tools_lets_the_model_choose() -> None:
    body = body_for(tools=[WEATHER], response_format=ResponseFormat(type="json_schema", schema=SCHEMA))
    assert [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]] == ["get_weather", JSON_TOOL]
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}
    forced = body_for(tools=[WEATHER], tool_choice=ToolChoice(mode="required"),
                      response_format=ResponseFormat(type="json_object"))
    assert forced["toolConfig"]["toolChoice"] == {"any": {}}
    assert JSON_TOOL in forced["system"][0]["text"]


def test_json_schema_root_must_be_an_object_for_the_tool() -> None:
    with pytest.raises(InvalidRequestError, match="root is an object") as raised:
        body_for(response_format=ResponseFormat(type="json_schema", schema={"type": "array"}))
    assert raised.value.param == "response_format"


def test_json_tool_answer_is_parsed_back_to_text() -> None:
    answer = {"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "tooluse_x", "name": JSON_TOOL, "input": {"city": "Paris"}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}}
    response = ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(answer))
    assert (response.text, response.tool_calls, response.stop_reason) == ('{"city":"Paris"}', [], "end")


def test_guardrail_stop_and_unreadable_answer() -> None:
    answer = {"output": {"message": {"role": "assistant", "content": [{"text": "Sorry."}]}},
              "stopReason": "guardrail_intervened", "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}}
    assert ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(answer)).stop_reason == "content_filter"
    with pytest.raises(UpstreamUnavailableError, match="unreadable response"):
        ADAPTER.parse_chat(PROVIDER, b'{"output": ')


# -- embeddings --------------------------------------------------------------------------------------------------


def test_titan_embeddings_one_call_per_input() -> None:
    request = EmbeddingRequest(model="amazon.titan-embed-text-v2:0", inputs=["hello", "world"], dimensions=256)
    calls = ADAPTER.embeddings_calls(PROVIDER, request)
    assert [c.url for c in calls] == ["https://bedrock-runtime.eu-west-3.amazonaws.com/model/"
                                      "amazon.titan-embed-text-v2:0/invoke"] * 2
    assert [msgspec.json.decode(c.body) for c in calls] == [{"inputText": "hello", "dimensions": 256},
                                                           {"inputText": "world", "dimensions": 256}]
    assert all(c.headers["Authorization"].startswith("AWS4-HMAC-SHA256") for c in calls)
    bodies = [msgspec.json.encode({"embedding": [0.5, -0.5], "inputTextTokenCount": 2}),
              msgspec.json.encode({"embeddingsByType": {"float": [0.25, 0.75]}, "inputTextTokenCount": 1})]
    response = ADAPTER.parse_embeddings(PROVIDER, request, bodies)
    assert response.vectors == [[0.5, -0.5], [0.25, 0.75]]
    assert (response.usage.input_tokens, response.estimated, response.model, response.provider) == (
        3, False, "amazon.titan-embed-text-v2:0", "aws")


def test_titan_dimension_rules() -> None:
    image = ADAPTER.embeddings_calls(PROVIDER, EmbeddingRequest(model="amazon.titan-embed-image-v1", inputs=["a"],
                                                                dimensions=384))
    assert msgspec.json.decode(image[0].body) == {"inputText": "a", "embeddingConfig": {"outputEmbeddingLength": 384}}
    with pytest.raises(InvalidRequestError, match="does not take dimensions"):
        ADAPTER.embeddings_calls(PROVIDER, EmbeddingRequest(model="amazon.titan-embed-text-v1", inputs=["a"],
                                                            dimensions=256))


def test_cohere_embeddings_batches_of_96_with_input_type() -> None:
    texts = [f"text {n}" for n in range(100)]
    request = EmbeddingRequest(model="cohere.embed-english-v3", inputs=texts)
    calls = ADAPTER.embeddings_calls(PROVIDER, request)
    bodies = [msgspec.json.decode(c.body) for c in calls]
    assert [len(b["texts"]) for b in bodies] == [96, 4]
    assert bodies[0]["input_type"] == "search_document" and bodies[0]["embedding_types"] == ["float"]
    assert "output_dimension" not in bodies[0]
    query = ADAPTER.embeddings_calls(PROVIDER, EmbeddingRequest(model="cohere.embed-v4:0", inputs=["q"],
                                                                input_type="search_query", dimensions=512))
    assert msgspec.json.decode(query[0].body) == {"texts": ["q"], "input_type": "search_query",
                                                  "embedding_types": ["float"], "output_dimension": 512}
    with pytest.raises(InvalidRequestError, match="does not take dimensions"):
        ADAPTER.embeddings_calls(PROVIDER, EmbeddingRequest(model="cohere.embed-english-v3", inputs=["q"],
                                                            dimensions=512))


def test_cohere_answers_in_both_shapes_with_estimated_usage() -> None:
    request = EmbeddingRequest(model="cohere.embed-english-v3", inputs=["abcdefgh", "xyz", "q"])
    bodies = [msgspec.json.encode({"embeddings": {"float": [[0.1], [0.2]]}, "response_type": "embeddings_by_type"}),
              msgspec.json.encode({"embeddings": [[0.3]], "response_type": "embeddings_floats"})]
    response = ADAPTER.parse_embeddings(PROVIDER, request, bodies)
    assert response.vectors == [[0.1], [0.2], [0.3]]
    assert (response.usage.input_tokens, response.estimated) == (2 + 1 + 1, True)
    billed = ADAPTER.parse_embeddings(PROVIDER, EmbeddingRequest(model="cohere.embed-v4:0", inputs=["a"]), [
        msgspec.json.encode({"embeddings": {"float": [[1.0]]}, "meta": {"billed_units": {"input_tokens": 9}}})])
    assert (billed.usage.input_tokens, billed.estimated) == (9, False)
    with pytest.raises(UpstreamUnavailableError, match="2 embeddings for 3 inputs"):
        ADAPTER.parse_embeddings(PROVIDER, request, bodies[:1])


def test_other_models_have_no_embeddings_here() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        ADAPTER.embeddings_calls(PROVIDER, EmbeddingRequest(model=NOVA, inputs=["x"]))
    assert raised.value.code == "embeddings_not_supported"
