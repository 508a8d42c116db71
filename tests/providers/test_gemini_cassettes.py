"""The Gemini adapter on recorded real traffic (pydantic-ai cassettes): every answer field by field, the
recorded error, and request bodies compared with the ones Gemini and Vertex accepted."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UpstreamModelNotFoundError,
)
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini import GeminiAdapter
from tests.providers.test_gemini_vectors import ANSWERS, ERRORS, by_name
from tests.vectors import Interaction

ADAPTER = GeminiAdapter(spec_for(ProviderType.GEMINI))
PROVIDER = ProviderConfig(provider_type=ProviderType.GEMINI, name="gm", api_key="k")
FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "MODEL_ARMOR"}


def parse(item: Interaction):
    return ADAPTER.parse_chat(PROVIDER, item.response.body_bytes())


def expected_stop(recorded: dict[str, Any], calls: bool) -> str:
    if not recorded.get("candidates"):
        return "content_filter"  # promptFeedback.blockReason
    reason = recorded["candidates"][0].get("finishReason")
    if reason == "MAX_TOKENS":
        return "length"
    if reason in FILTERED:
        return "content_filter"
    return "tool_calls" if calls else "end"


# -- every recorded answer, field by field ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "item"), ANSWERS, ids=[n for n, _ in ANSWERS])
def test_recorded_answer(name: str, item: Interaction) -> None:
    recorded = item.response.json
    response = parse(item)
    assert response.id == recorded["responseId"]
    assert response.model == recorded["modelVersion"]
    candidates = recorded.get("candidates") or [{}]
    parts = (candidates[0].get("content") or {}).get("parts") or []
    texts = [p["text"] for p in parts if p.get("text") and not p.get("thought")]
    thoughts = [p["text"] for p in parts if p.get("thought") and p.get("text")]
    calls = [p for p in parts if "functionCall" in p]
    assert response.text == "".join(texts)
    assert response.thinking == "".join(thoughts)
    assert [(c.name, msgspec.json.decode(c.arguments)) for c in response.tool_calls] == [
        (p["functionCall"]["name"], p["functionCall"].get("args", {})) for p in calls]
    for call, part in zip(response.tool_calls, calls, strict=True):
        given = part["functionCall"].get("id")
        assert call.id == given if given else (call.id.startswith("call_") and len(call.id) == 29)
    # a signed call is preceded by an empty thinking part holding its signature
    for index, part in enumerate(response.parts):
        if isinstance(part, ToolCallPart):
            wire = calls[response.tool_calls.index(part)]
            before = response.parts[index - 1] if index else None
            if "thoughtSignature" in wire:
                assert before == ThinkingPart(signature="gemini:" + wire["thoughtSignature"])
            else:
                assert not (isinstance(before, ThinkingPart) and before.text == "")
    assert response.stop_reason == expected_stop(recorded, bool(calls))
    usage = recorded.get("usageMetadata") or {}
    thoughts_used = usage.get("thoughtsTokenCount", 0)
    assert response.usage.input_tokens == usage.get("promptTokenCount", 0) + usage.get("toolUsePromptTokenCount", 0)
    assert response.usage.output_tokens == usage.get("candidatesTokenCount", 0) + thoughts_used
    assert response.usage.reasoning_tokens == thoughts_used
    assert response.usage.cached_tokens == usage.get("cachedContentTokenCount", 0)


def test_plain_answer() -> None:
    response = parse(by_name("test_google_model#0"))
    assert response.parts == [TextPart("Hello! How can I help you today?")]
    assert (response.id, response.model, response.stop_reason) == ("bzlXaa_EE_aHqtsPi_zw8Ao", "gemini-2.5-flash", "end")
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reasoning_tokens) == (9, 43, 34)


def test_function_call_without_arguments_gets_an_id() -> None:
    response = parse(by_name("test_google_tool_output#0"))
    [call] = response.parts
    assert isinstance(call, ToolCallPart) and call.name == "get_user_country" and call.arguments == "{}"
    assert call.id.startswith("call_")
    assert response.stop_reason == "tool_calls"
    second = parse(by_name("test_google_tool_output#1"))
    assert msgspec.json.decode(second.tool_calls[0].arguments) == {"city": "Mexico City", "country": "Mexico"}


def test_vertex_keeps_gemini_call_ids_and_signatures() -> None:
    response = parse(by_name("test_google_vertex_tool_combination_omits_include_server_side_tool_invocations#0"))
    signed, call = response.parts
    assert call == ToolCallPart(id="vcyiitct", name="get_user_city", arguments="{}")
    assert isinstance(signed, ThinkingPart) and signed.text == ""
    assert signed.signature.startswith("gemini:AY89a19Otdr37hcYt/uTONS2")


def test_parallel_calls_share_one_signature() -> None:
    response = parse(by_name("test_google_instructions_only_with_tool_calls#0"))
    kinds = [type(p).__name__ for p in response.parts]
    assert kinds == ["ThinkingPart", "ToolCallPart", "ToolCallPart", "ToolCallPart"]
    assert {c.name for c in response.tool_calls} == {"generate_topic"}
    assert len({c.id for c in response.tool_calls}) == 3
    assert response.extra["finish_message"] == "Model generated function call(s)."


def test_thought_parts_become_thinking() -> None:
    response = parse(by_name("test_google_model_thinking_part#0"))
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart) and thinking.signature is None
    assert thinking.text.startswith("**A Safe Street-Crossing Guide: My Thought Process**")
    assert isinstance(text, TextPart) and text.text.startswith("Crossing the street safely is a fundamental skill")


def test_length_and_filters() -> None:
    cut = parse(by_name("test_google_model_max_tokens#0"))
    assert (cut.text, cut.stop_reason) == ("The capital of France is", "length")
    empty = parse(by_name("test_google_model_max_tokens_thinking_model_empty_response#0"))
    assert (empty.parts, empty.stop_reason, empty.usage.output_tokens) == ([], "length", 2)
    safety = parse(by_name("test_google_model_safety_settings#0"))
    assert (safety.parts, safety.stop_reason, safety.extra["finish_reason"]) == ([], "content_filter", "SAFETY")
    blocked = parse(by_name("test_google_model_armor_prompt_template_text_gets_blocked#1"))
    assert (blocked.parts, blocked.stop_reason) == ([], "content_filter")
    assert blocked.extra["prompt_feedback"]["block_reason"] == "MODEL_ARMOR"


def test_recorded_unknown_model_error() -> None:
    [(_, item)] = ERRORS
    error = ADAPTER.parse_error(PROVIDER, item.response.status, item.response.headers, item.response.body_bytes())
    assert isinstance(error, UpstreamModelNotFoundError)
    assert (error.status, error.code, error.upstream_status, error.provider) == (404, "model_not_found", 404, "gm")
    assert "models/gemini-3.6-flahs is not found for API version v1beta" in error.message
    assert error.message.startswith("gm: ")


# -- request bodies against the ones the real APIs accepted -------------------------------------------------------


def normalized(value: Any) -> Any:
    """A body with the details that legitimately differ made comparable: base64 (standard or URL-safe) as
    bytes, a function response's value under whatever key, snake_case keys as camelCase."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = _camel(key)
            if key in ("thoughtSignature", "data") and isinstance(item, str):
                out[key] = base64.urlsafe_b64decode(item.replace("+", "-").replace("/", "_") + "==")
            elif key == "response" and isinstance(item, dict) and len(item) == 1:
                out[key] = next(iter(item.values()))
            else:
                out[key] = normalized(item)
        return out
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.title() for word in rest)


def body_of(request: ChatRequest) -> dict[str, Any]:
    call = ADAPTER.chat_call(PROVIDER, request)
    return msgspec.json.decode(call.body)


def test_instructions_and_user_text() -> None:
    item = by_name("test_google_model#0")
    request = ChatRequest(model="gemini-2.5-flash", messages=[
        Message(role="system", parts=[TextPart("You are a chatbot.")]), Message(role="user", parts=[TextPart("Hello!")])])
    call = ADAPTER.chat_call(PROVIDER, request)
    assert call.url == item.request.uri
    assert call.headers["x-goog-api-key"] == "k"
    body = msgspec.json.decode(call.body)
    recorded = item.request.body
    assert body["contents"] == recorded["contents"]
    assert body["systemInstruction"] == recorded["systemInstruction"]
    assert body["generationConfig"] == {"candidateCount": 1}


def test_stream_url_and_temperature() -> None:
    item = by_name("test_google_model_stream#0")
    request = ChatRequest(model="gemini-2.0-flash-exp", stream=True, temperature=0.0, messages=[
        Message(role="system", parts=[TextPart("You are a helpful chatbot.")]),
        Message(role="user", parts=[TextPart("What is the capital of France?")])])
    call = ADAPTER.chat_call(PROVIDER, request)
    assert call.url == item.request.uri
    body = msgspec.json.decode(call.body)
    assert {k: body[k] for k in ("contents", "systemInstruction")} == {
        k: item.request.body[k] for k in ("contents", "systemInstruction")}
    assert body["generationConfig"]["temperature"] == item.request.body["generationConfig"]["temperature"] == 0.0


WEATHER = Tool(name="get_weather", description="Get weather for a city",
               parameters={"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"})
TIME = Tool(name="get_time", description="Get time in a timezone",
            parameters={"properties": {"timezone": {"type": "string"}}, "required": ["timezone"], "type": "object"})


@pytest.mark.parametrize(("cassette", "tools", "choice"), [
    ("test_tool_choice_matrix[required-google]#0", [WEATHER], ToolChoice(mode="required")),
    ("test_tool_choice_matrix[list_single-google]#0", [WEATHER, TIME], ToolChoice(mode="tool", name="get_weather")),
])
def test_tools_and_tool_choice(cassette: str, tools: list[Tool], choice: ToolChoice) -> None:
    item = by_name(cassette)
    request = ChatRequest(model="gemini-2.5-flash", tools=tools, tool_choice=choice,
                          messages=[Message(role="user", parts=[TextPart("What's the weather in Paris?")])])
    body = body_of(request)
    recorded = item.request.body
    assert normalized(body["tools"]) == normalized(recorded["tools"])
    assert body["toolConfig"] == recorded["toolConfig"]
    assert body["contents"] == recorded["contents"]


def test_tool_choice_none_keeps_the_schema_as_given() -> None:
    item = by_name("test_tool_choice_matrix[none-google]#0")
    declaration = item.request.body["tools"][0]["functionDeclarations"][0]
    schema = declaration["parameters_json_schema"]
    assert schema["additionalProperties"] is False  # accepted by Gemini in parametersJsonSchema
    request = ChatRequest(model="gemini-2.5-flash", tool_choice=ToolChoice(mode="none"),
                          tools=[Tool(name="get_weather", description=declaration["description"], parameters=schema)],
                          messages=[Message(role="user", parts=[TextPart("What's the weather in Paris?")])])
    body = body_of(request)
    assert body["toolConfig"] == item.request.body["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}
    assert body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == schema


def test_two_tool_rounds_as_recorded() -> None:
    item = by_name("test_google_model_iter_stream#2")
    capital = "pyd_ai_0e1a07b3c2b64d2ab3ad2efbe18e1b97"
    temperature = "pyd_ai_98b25d994c5648df82f683188629229d"
    request = ChatRequest(model="gemini-2.0-flash", stream=True, messages=[
        Message(role="system", parts=[TextPart("You are a helpful chatbot.")]),
        Message(role="user", parts=[TextPart("What is the temperature of the capital of France?")]),
        Message(role="assistant", parts=[ToolCallPart(id=capital, name="get_capital", arguments='{"country": "France"}')]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id=capital, content=[TextPart("Paris")])]),
        Message(role="assistant", parts=[ToolCallPart(id=temperature, name="get_temperature", arguments='{"city":"Paris"}')]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id=temperature, content=[TextPart("30°C")])]),
    ])
    body = body_of(request)
    assert normalized(body["contents"]) == normalized(item.request.body["contents"])
    assert body["contents"][2]["parts"][0]["functionResponse"]["response"] == {"output": "Paris"}


def test_parallel_results_form_one_content_and_the_signature_goes_back() -> None:
    first = by_name("test_google_instructions_only_with_tool_calls#0")
    item = by_name("test_google_instructions_only_with_tool_calls#1")
    recorded = item.request.body["contents"]
    ids = [p["functionCall"]["id"] for p in recorded[1]["parts"]]
    answers = [p["functionResponse"]["response"]["return_value"] for p in recorded[2]["parts"]]
    signature = first.response.json["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    request = ChatRequest(model="gemini-3-flash-preview", messages=[
        Message(role="system", parts=[TextPart("Tell three jokes. Generate topics with the generate_topic tool.")]),
        Message(role="user", parts=[TextPart("")]),
        Message(role="assistant", parts=[ThinkingPart(signature="gemini:" + signature)]
                + [ToolCallPart(id=i, name="generate_topic", arguments="{}") for i in ids]),
        *[Message(role="tool", parts=[ToolResultPart(tool_call_id=i, content=[TextPart(a)])])
          for i, a in zip(ids, answers, strict=True)],
    ])
    body = body_of(request)
    assert normalized(body["contents"]) == normalized(recorded)
    assert body["systemInstruction"] == item.request.body["systemInstruction"]


def test_calls_from_another_model_get_the_placeholder_signature() -> None:
    item = by_name("test_thinking_with_tool_calls_from_other_model#2")
    recorded = item.request.body["contents"]
    call_id = recorded[1]["parts"][0]["functionCall"]["id"]
    request = ChatRequest(model="gemini-3-pro-preview", messages=[
        Message(role="user", parts=[TextPart("What is the capital of the country?")]),
        Message(role="assistant", parts=[ThinkingPart(text="I should call get_country", signature="rs_openai_sig"),
                                         ToolCallPart(id=call_id, name="get_country", arguments="{}")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id=call_id, content=[TextPart("Mexico")])]),
    ])
    body = body_of(request)
    assert normalized(body["contents"]) == normalized(recorded)
    assert body["contents"][1]["parts"][0]["thoughtSignature"] == recorded[1]["parts"][0]["thoughtSignature"]


def test_json_schema_output() -> None:
    item = by_name("test_google_native_output#0")
    schema = item.request.body["generationConfig"]["responseJsonSchema"]
    request = ChatRequest(model="gemini-2.0-flash", response_format=ResponseFormat(type="json_schema", schema=schema),
                          messages=[Message(role="user", parts=[TextPart("What is the largest city in Mexico?")])])
    config = body_of(request)["generationConfig"]
    recorded = item.request.body["generationConfig"]
    assert config["responseMimeType"] == recorded["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == recorded["responseJsonSchema"]


def test_max_tokens() -> None:
    item = by_name("test_google_model_max_tokens#0")
    request = ChatRequest(model="gemini-2.5-flash", max_tokens=5, reasoning_effort="none", messages=[
        Message(role="user", parts=[TextPart("What is the capital of France?")])])
    config = body_of(request)["generationConfig"]
    recorded = item.request.body["generationConfig"]
    assert config["maxOutputTokens"] == recorded["maxOutputTokens"] == 5
    assert normalized(config["thinkingConfig"]) == normalized(recorded["thinkingConfig"]) == {"thinkingBudget": 0}


def test_inline_image() -> None:
    item = by_name("test_google_model_image_url_input#1")
    recorded = item.request.body["contents"][0]["parts"]
    data = base64.b64encode(normalized(recorded[1])["inlineData"]["data"]).decode()  # as the dispatcher fetched it
    request = ChatRequest(model="gemini-2.0-flash", messages=[Message(role="user", parts=[
        TextPart("What is this vegetable?"), ImagePart(data=data, media_type="image/jpeg")])])
    body = body_of(request)
    assert normalized(body["contents"][0]["parts"]) == normalized(recorded)
    assert body["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "image/jpeg"
