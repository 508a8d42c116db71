"""The Cohere mock as the official ``cohere`` SDK sees it (``cohere.ClientV2``): chat, chat_stream, tool calls and
their results, JSON mode, reasoning, limits, embeddings, the model list, and errors raised as the SDK's classes."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import cohere
import httpx
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

MODEL = "command-r7b-12-2024"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather for a city.",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}
CLOCK = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def client(server: MockServer, key: str = "co-test", prefix: str = "") -> cohere.ClientV2:
    return cohere.ClientV2(api_key=key, base_url=server.url + prefix + "/cohere", max_retries=0)


@pytest.fixture
def co(mock: MockServer) -> cohere.ClientV2:
    return client(mock)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def prompt_tokens(*texts: str) -> int:
    """The mock's rule: 3 + per message 4 + ceil(chars / 4)."""
    return 3 + sum(4 + math.ceil(len(t) / 4) for t in texts)


# -- chat ------------------------------------------------------------------------------------------------------


def test_chat_echoes_with_billed_and_raw_usage(co: cohere.ClientV2) -> None:
    answer = co.chat(model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *user("Hello there")])
    assert answer.finish_reason == "COMPLETE"
    assert answer.message.role == "assistant"
    assert [(c.type, c.text) for c in answer.message.content] == [("text", "Echo: Hello there")]
    assert answer.message.tool_calls is None and answer.message.tool_plan is None
    billed = answer.usage.billed_units
    assert (billed.input_tokens, billed.output_tokens) == (prompt_tokens("Be brief.", "Hello there"), 5)
    assert answer.usage.tokens.input_tokens == billed.input_tokens + 500
    assert answer.usage.tokens.output_tokens == 7
    assert len(answer.id) == 36 and answer.id.count("-") == 4  # a UUID, as Cohere's ids are


def test_chat_stream_event_sequence_and_text(co: cohere.ClientV2) -> None:
    events = list(co.chat_stream(model=MODEL, messages=user("Say something nice")))
    kinds = [e.type for e in events]
    assert kinds[0] == "message-start" and kinds[1] == "content-start"
    assert kinds[-2:] == ["content-end", "message-end"]
    assert set(kinds[2:-2]) == {"content-delta"}
    assert events[0].id and events[0].delta.message.role == "assistant"
    text = "".join(e.delta.message.content.text for e in events if e.type == "content-delta")
    assert text == "Echo: Say something nice"
    end = events[-1].delta
    assert end.finish_reason == "COMPLETE"
    assert (end.usage.billed_units.input_tokens, end.usage.billed_units.output_tokens) == (
        prompt_tokens("Say something nice"), 6)


def test_max_tokens_and_stop_sequences(co: cohere.ClientV2) -> None:
    cut = co.chat(model=MODEL, messages=user("a long sentence to cut short"), max_tokens=2)
    assert cut.finish_reason == "MAX_TOKENS"
    assert cut.message.content[0].text == "Echo: a "
    stopped = co.chat(model=MODEL, messages=user("one, two, three"), stop_sequences=[", three"])
    assert stopped.finish_reason == "STOP_SEQUENCE"
    assert stopped.message.content[0].text == "Echo: one, two"


def test_a_reasoning_model_thinks_first_in_json_and_in_streams(co: cohere.ClientV2) -> None:
    answer = co.chat(model="command-a-reasoning-08-2025", messages=user("Why is the sky blue?"))
    assert [c.type for c in answer.message.content] == ["thinking", "text"]
    assert answer.message.content[0].thinking == "Considering: Why is the sky blue?"
    events = list(co.chat_stream(model="command-a-reasoning-08-2025", messages=user("Why?")))
    starts = [e.delta.message.content.type for e in events if e.type == "content-start"]
    assert starts == ["thinking", "text"]
    thought = "".join(e.delta.message.content.thinking or "" for e in events if e.type == "content-delta")
    assert thought == "Considering: Why?"
    off = co.chat(model="command-a-reasoning-08-2025", messages=user("Why?"), thinking={"type": "disabled"})
    assert [c.type for c in off.message.content] == ["text"]


# -- tools -----------------------------------------------------------------------------------------------------


def test_tool_call_with_plan_and_parsed_arguments(co: cohere.ClientV2) -> None:
    answer = co.chat(model=MODEL, messages=user("What's the weather in Paris?"), tools=[WEATHER])
    assert answer.finish_reason == "TOOL_CALL"
    assert answer.message.content is None
    assert answer.message.tool_plan == "I will use the get_weather tool to answer."
    (call,) = answer.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert call.id.startswith("get_weather_") and len(call.id) == len("get_weather_") + 12
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_required_none_and_two_calls(co: cohere.ClientV2) -> None:
    none = co.chat(model=MODEL, messages=user("What's the weather in Paris?"), tools=[WEATHER], tool_choice="NONE")
    assert none.finish_reason == "COMPLETE" and none.message.tool_calls is None
    both = co.chat(model=MODEL, messages=user("Weather and time for both Paris and Tokyo"), tools=[WEATHER, CLOCK],
                   tool_choice="REQUIRED")
    assert [c.function.name for c in both.message.tool_calls] == ["get_weather", "get_time"]
    assert both.message.tool_plan == "I will use the get_weather and get_time tools to answer."
    assert [json.loads(c.function.arguments) for c in both.message.tool_calls] == [{"city": "Paris"},
                                                                                  {"city": "Tokyo"}]


def test_streamed_tool_call_arguments_assemble(co: cohere.ClientV2) -> None:
    events = list(co.chat_stream(model=MODEL, messages=user("Weather in Lisbon?"), tools=[WEATHER]))
    plan = "".join(e.delta.message.tool_plan for e in events if e.type == "tool-plan-delta")
    assert plan == "I will use the get_weather tool to answer."
    (start,) = [e for e in events if e.type == "tool-call-start"]
    assert start.delta.message.tool_calls.function.name == "get_weather"
    arguments = "".join(e.delta.message.tool_calls.function.arguments for e in events if e.type == "tool-call-delta")
    assert json.loads(arguments) == {"city": "Lisbon"}
    assert [e.type for e in events][-2:] == ["tool-call-end", "message-end"]
    assert events[-1].delta.finish_reason == "TOOL_CALL"


def test_tool_results_round_trip(co: cohere.ClientV2) -> None:
    first = co.chat(model=MODEL, messages=user("What's the weather in Paris?"), tools=[WEATHER])
    call = first.message.tool_calls[0]
    history = [*user("What's the weather in Paris?"),
               {"role": "assistant", "tool_plan": first.message.tool_plan,
                "tool_calls": [{"id": call.id, "type": "function",
                                "function": {"name": "get_weather", "arguments": call.function.arguments}}]},
               {"role": "tool", "tool_call_id": call.id,
                "content": [{"type": "document", "document": {"data": {"forecast": "Sunny, 22C"}}}]}]
    answer = co.chat(model=MODEL, messages=history, tools=[WEATHER])
    assert answer.finish_reason == "COMPLETE"
    assert answer.message.content[0].text == 'Tool results: get_weather: {"forecast":"Sunny, 22C"}'
    text_result = [*history[:2], {"role": "tool", "tool_call_id": call.id, "content": "Sunny"}]
    assert co.chat(model=MODEL, messages=text_result).message.content[0].text == "Tool results: get_weather: Sunny"


# -- JSON mode -------------------------------------------------------------------------------------------------


def test_json_mode_with_and_without_a_schema(co: cohere.ClientV2) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}
    shaped = co.chat(model=MODEL, messages=user("Generate a JSON pet"),
                     response_format={"type": "json_object", "json_schema": schema})
    value = json.loads(shaped.message.content[0].text)
    assert set(value) == {"name", "age"} and isinstance(value["age"], int)
    bare = co.chat(model=MODEL, messages=user("Reply in JSON"), response_format={"type": "json_object"})
    assert json.loads(bare.message.content[0].text) == {"reply": "Echo: Reply in JSON"}


# -- embeddings ------------------------------------------------------------------------------------------------


def test_embed_floats_dimensions_and_billing(co: cohere.ClientV2) -> None:
    answer = co.embed(model="embed-v4.0", texts=["hello", "a longer text"], input_type="search_document",
                      embedding_types=["float"])
    vectors = answer.embeddings.float_
    assert [len(v) for v in vectors] == [1536, 1536]
    assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-4
    assert answer.meta.billed_units.input_tokens == 2 + 4
    assert answer.texts == ["hello", "a longer text"]
    again = co.embed(model="embed-v4.0", texts=["hello"], input_type="search_query", embedding_types=["float"])
    assert again.embeddings.float_[0] == vectors[0]  # deterministic per model and text
    short = co.embed(model="embed-v4.0", texts=["x"], input_type="clustering", embedding_types=["float", "int8"],
                     output_dimension=256)
    assert len(short.embeddings.float_[0]) == 256
    assert all(-128 <= v <= 127 for v in short.embeddings.int8[0])
    light = co.embed(model="embed-multilingual-light-v3.0", texts=["x"], input_type="classification")
    assert len(light.embeddings.float_[0]) == 384


def test_embed_refuses_what_cohere_refuses(co: cohere.ClientV2) -> None:
    with pytest.raises(cohere.BadRequestError) as caught:
        co.embed(model="embed-english-v3.0", texts=["x"], input_type="search_document", output_dimension=256)
    assert "output_dimension" in caught.value.body["message"]
    missing = post_json(co._client_wrapper.get_base_url() + "/v2/embed", {"model": "embed-v4.0", "texts": ["x"]},
                        {"Authorization": "Bearer k"})
    assert missing.status == 400
    assert missing.json["message"] == "invalid request: valid input_type must be provided with the provided model"


# -- model list ------------------------------------------------------------------------------------------------


def test_model_list_filters_by_endpoint_and_pages(mock: MockServer) -> None:
    auth = {"Authorization": "Bearer k"}
    chat = raw_request(mock.url + "/cohere/v1/models?endpoint=chat&page_size=1000", headers=auth)
    assert chat.status == 200
    names = [m["name"] for m in chat.json["models"]]
    assert "command-r7b-12-2024" in names and not any(n.startswith("embed") for n in names)
    assert all("chat" in m["endpoints"] for m in chat.json["models"])
    page = raw_request(mock.url + "/cohere/v1/models?page_size=2", headers=auth)
    assert len(page.json["models"]) == 2 and page.json["next_page_token"]
    assert raw_request(mock.url + "/cohere/v1/models", headers={"Authorization": "Bearer bad-1"}).status == 401


# -- errors ----------------------------------------------------------------------------------------------------


def test_a_bad_key_is_the_sdk_s_unauthorized_error(mock: MockServer) -> None:
    with pytest.raises(cohere.UnauthorizedError) as caught:
        client(mock, key="bad-key").chat(model=MODEL, messages=user("hi"))
    assert caught.value.status_code == 401
    assert caught.value.body["message"] == "invalid api token"
    no_key = post_json(mock.url + "/cohere/v2/chat", {"model": MODEL, "messages": user("hi")})
    assert (no_key.status, no_key.json["message"]) == (401, "no api key supplied")


def test_an_unknown_model_is_the_sdk_s_not_found_error(co: cohere.ClientV2) -> None:
    with pytest.raises(cohere.NotFoundError) as caught:
        co.chat(model="no-such-model", messages=user("hi"))
    assert caught.value.body["message"].startswith("model 'no-such-model' not found, make sure the correct model ID")


def test_a_rate_limit_fault_is_too_many_requests_with_retry_after(fresh: MockServer) -> None:
    with pytest.raises(cohere.TooManyRequestsError) as caught:
        client(fresh, prefix="/fault/status=429,retry_after=3").chat(model=MODEL, messages=user("hi"))
    assert caught.value.headers["retry-after"] == "3"
    assert set(caught.value.body) == {"id", "message"}
    with pytest.raises(cohere.InternalServerError):
        client(fresh).chat(model=MODEL, messages=user("hi"), request_options={
            "additional_headers": {"x-mock-fault": "status=500"}})


@pytest.mark.parametrize(("payload", "message"), [
    ({"tool_choice": "AUTO", "tools": [WEATHER]}, "tool_choice must be one of REQUIRED, NONE"),
    ({"tool_choice": "REQUIRED"}, "tool_choice requires tools"),
    ({"p": 1.0}, "p must be between 0.01 and 0.99"),
    ({"top_p": 0.5}, "unknown field: parameter top_p"),
    ({"stop_sequences": ["a", "b", "c", "d", "e", "f"]}, "at most 5"),
    ({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}, "does not match any tool call"),
    ({"messages": [{"role": "assistant"}]}, "need content or tool_calls"),
    ({"response_format": {"type": "json_schema"}}, "response_format.type"),
])
def test_invalid_requests_are_bad_requests(co: cohere.ClientV2, mock: MockServer, payload: dict[str, Any],
                                           message: str) -> None:
    body = {"model": MODEL, "messages": user("hi"), **payload}
    answer = post_json(mock.url + "/cohere/v2/chat", body, {"Authorization": "Bearer k"})
    assert answer.status == 400
    assert answer.json["message"].startswith("invalid request: ")
    assert message in answer.json["message"]


def _stream(co: cohere.ClientV2, **kw: Any) -> Iterator[Any]:
    return co.chat_stream(model=MODEL, messages=user("a few words to stream along"), **kw)


def test_a_cut_stream_breaks_off_in_the_sdk(fresh: MockServer) -> None:
    seen: list[str] = []
    with pytest.raises(httpx.HTTPError):
        for event in _stream(client(fresh, prefix="/fault/cut_after=3")):
            seen.append(event.type)
    assert seen == ["message-start", "content-start", "content-delta"]
