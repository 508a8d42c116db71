"""The Anthropic Messages API through a real ``byway serve``, called with the official ``anthropic`` SDK,
in front of an Anthropic provider (``an``) and an OpenAI one (``oa``)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import pytest
from genai_prices import Usage as CatalogueUsage
from genai_prices import calc_price

from tests.e2e.conftest import MASTER_KEY, Gateway
from tests.e2e.test_chat_completions import PNG_1PX, raw

MODELS = ["an:claude-3-5-haiku-latest", "oa:gpt-4o-mini"]
CATALOGUE = {"an": ("anthropic", "claude-3-5-haiku-latest"), "oa": ("openai", "gpt-4o-mini")}
WEATHER = {"name": "get_weather", "description": "Current weather in a city",
           "input_schema": {"type": "object", "properties": {
               "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
               "required": ["city", "unit"]}}
X_API_KEY = {"x-api-key": MASTER_KEY, "content-type": "application/json", "anthropic-version": "2023-06-01"}


@pytest.fixture(params=["x-api-key", "bearer"])
def client(request: pytest.FixtureRequest, gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> anthropic.Anthropic:
    """The SDK as most callers use it (``x-api-key``), and with the key as a Bearer ``auth_token``."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    if request.param == "bearer":
        sdk = gateway.anthropic(auth_token=MASTER_KEY)
        assert sdk.api_key is None
        return sdk
    return gateway.anthropic()


def ask(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def post(gateway: Gateway, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw(gateway, "POST", "/v1/messages", data, X_API_KEY if headers is None else headers)


# --- text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_text_answer_usage_cost_and_headers(client: anthropic.Anthropic, model: str):
    response = client.messages.with_raw_response.create(
        model=model, max_tokens=50, system="Be brief.", messages=ask("Hello there"))
    message = response.parse()
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert [(b.type, b.text) for b in message.content] == [("text", "Echo: Hello there")]
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    # mock token rule: 3 + (4 + ceil(9/4)) + (4 + ceil(11/4)) = 17 in; ceil(17/4) = 5 out
    assert (message.usage.input_tokens, message.usage.output_tokens) == (17, 5)
    assert message.usage.cache_read_input_tokens == 0 and message.usage.cache_creation_input_tokens == 0
    provider = model.partition(":")[0]
    headers = response.headers
    assert headers["x-byway-provider"] == provider and headers["x-byway-model"] == model.partition(":")[2]
    assert headers["x-byway-attempts"] == "1" and headers["x-byway-request-id"].startswith("req_")
    assert 0 <= float(headers["x-byway-overhead-ms"]) < 1000
    vendor, catalogue_model = CATALOGUE[provider]
    expected = calc_price(CatalogueUsage(input_tokens=17, output_tokens=5), catalogue_model,
                          provider_id=vendor).total_price
    assert Decimal(headers["x-byway-cost-usd"]) == expected


@pytest.mark.parametrize("model", MODELS)
def test_system_blocks_and_conversation_history(client: anthropic.Anthropic, model: str):
    message = client.messages.create(model=model, max_tokens=100, system=[
        {"type": "text", "text": "You are terse."}, {"type": "text", "text": "Answer in English."}], messages=[
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": [{"type": "text", "text": "first answer"}]},
        {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "question"}]}])
    assert message.content[0].text == "Echo: second question"


# --- streams -----------------------------------------------------------------------------------------


def event_names(body: bytes) -> list[str]:
    names = []
    for block in body.decode().split("\n\n"):
        if block.strip():
            first = block.split("\n", 1)[0]
            assert first.startswith("event: "), block  # every event is named, as Anthropic's are
            names.append(first.removeprefix("event: "))
    return names


@pytest.mark.parametrize("model", MODELS)
def test_stream_text(client: anthropic.Anthropic, model: str):
    with client.messages.stream(model=model, max_tokens=100, messages=ask("Tell me a story about streams")) as s:
        pieces = list(s.text_stream)
        final = s.get_final_message()
    assert "".join(pieces) == "Echo: Tell me a story about streams" and len(pieces) > 1
    assert [b.type for b in final.content] == ["text"]
    assert final.content[0].text == "Echo: Tell me a story about streams"
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (3 + 4 + 8, 9)


@pytest.mark.parametrize("model", MODELS)
def test_stream_event_sequence(gateway: Gateway, model: str):
    status, headers, body = post(gateway, {"model": model, "max_tokens": 100, "stream": True,
                                           "messages": ask("Hi there")})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert headers["x-byway-provider"] == model.partition(":")[0]
    names = event_names(body)
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_anthropic_stream_passes_through_byte_for_byte(gateway: Gateway):
    request = {"model": "an:claude-3-5-haiku-latest", "max_tokens": 200, "stream": True, "tools": [WEATHER],
               "messages": ask("Weather in Lisbon and Madrid? Check both.")}
    gateway.mock.reset()  # the mock's ids follow a per-server sequence: start both runs from the same point
    status, _, through_gateway = post(gateway, request)
    assert status == 200
    sent_upstream = gateway.mock.requests()[-1]["body"]
    assert sent_upstream["model"] == "claude-3-5-haiku-latest" and sent_upstream["stream"] is True
    gateway.mock.reset()
    with httpx.Client(timeout=30) as direct:
        from_mock = direct.post(gateway.mock.url + "/anthropic/v1/messages", json=sent_upstream,
                                headers={"x-api-key": "sk-ant-mock", "anthropic-version": "2023-06-01"}).content
    assert b"input_json_delta" in from_mock and b"toolu_" in from_mock
    assert through_gateway == from_mock


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_call_arguments(client: anthropic.Anthropic, model: str):
    with client.messages.stream(model=model, max_tokens=200, tools=[WEATHER],  # type: ignore[list-item]
                                tool_choice={"type": "tool", "name": "get_weather"},
                                messages=ask("Weather in Lisbon please")) as stream:
        fragments = [e.partial_json for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert len([f for f in fragments if f]) > 1
    assert json.loads("".join(fragments)) == {"city": "Lisbon", "unit": "celsius"}
    (call,) = final.content
    assert call.type == "tool_use" and call.name == "get_weather" and call.id
    assert call.input == {"city": "Lisbon", "unit": "celsius"}
    assert final.stop_reason == "tool_use"


@pytest.mark.parametrize("model", ["cutan:claude-3-5-haiku-latest", "cut:gpt-4o-mini"])
def test_stream_cut_midway_ends_with_an_error_event(gateway: Gateway, model: str):
    text = "a long enough answer to be cut somewhere in the middle"
    status, _, body = post(gateway, {"model": model, "max_tokens": 100, "stream": True, "messages": ask(text)})
    assert status == 200
    names = event_names(body)
    assert names[0] == "message_start" and names[-1] == "error" and "message_stop" not in names
    error = json.loads(body.decode().strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert error["type"] == "error" and error["error"]["type"] == "api_error"
    assert model.partition(":")[0] in error["error"]["message"]
    with pytest.raises(anthropic.APIStatusError):  # the SDK surfaces it, not a silent end
        with gateway.anthropic().messages.stream(model=model, max_tokens=100, messages=ask(text)) as stream:
            stream.get_final_message()


# --- tools -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_tool_calls_and_results_round_trip(client: anthropic.Anthropic, model: str):
    messages: list[Any] = ask("What is the weather in Paris and in Rome? Check both.")
    first = client.messages.create(model=model, max_tokens=300, tools=[WEATHER], messages=messages)  # type: ignore[list-item]
    assert first.stop_reason == "tool_use"
    calls = [b for b in first.content if b.type == "tool_use"]
    assert [(c.name, c.input) for c in calls] == [("get_weather", {"city": "Paris", "unit": "celsius"}),
                                                  ("get_weather", {"city": "Rome", "unit": "celsius"})]
    assert len({c.id for c in calls}) == 2
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    messages.append({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": calls[0].id, "content": "Sunny, 24C"},
        {"type": "tool_result", "tool_use_id": calls[1].id, "content": [{"type": "text", "text": "Rain, 12C"}]}]})
    second = client.messages.create(model=model, max_tokens=300, tools=[WEATHER], messages=messages)  # type: ignore[list-item]
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Tool results: get_weather: Sunny, 24C; get_weather: Rain, 12C"


@pytest.mark.parametrize("model", MODELS)
def test_one_tool_call_when_parallel_use_is_disabled(client: anthropic.Anthropic, model: str):
    message = client.messages.create(
        model=model, max_tokens=300, tools=[WEATHER], messages=ask("Weather in Oslo and Bergen? Check both."),  # type: ignore[list-item]
        tool_choice={"type": "auto", "disable_parallel_tool_use": True})
    assert [(b.type, b.input) for b in message.content] == [("tool_use", {"city": "Oslo", "unit": "celsius"})]


@pytest.mark.parametrize("model", MODELS)
def test_tool_choice_none_answers_in_text(client: anthropic.Anthropic, model: str):
    message = client.messages.create(model=model, max_tokens=300, tools=[WEATHER], tool_choice={"type": "none"},  # type: ignore[list-item]
                                     messages=ask("Weather in Oslo?"))
    assert [b.type for b in message.content] == ["text"] and message.stop_reason == "end_turn"


# --- images, stop sequences, max tokens --------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_images(client: anthropic.Anthropic, model: str):
    inline = client.messages.create(model=model, max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}}]}])
    size = len(base64.b64decode(PNG_1PX))
    assert inline.content[0].text == f"Echo: What is this? [image image/png {size} bytes]"
    by_url = client.messages.create(model=model, max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}]}])
    assert by_url.content[0].text == "Echo: [image https://example.com/cat.jpg]"


@pytest.mark.parametrize("model", MODELS)
def test_stop_sequences(client: anthropic.Anthropic, model: str):
    message = client.messages.create(model=model, max_tokens=100, stop_sequences=["general", "never"],
                                     messages=ask("Hello there, general Kenobi"))
    assert message.content[0].text == "Echo: Hello there, "
    if model.startswith("an:"):
        assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "general")
    else:  # OpenAI's finish_reason "stop" does not say whether a stop sequence was met
        assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_stops_with_max_tokens(client: anthropic.Anthropic, model: str, stream: bool):
    kwargs: dict[str, Any] = {"model": model, "max_tokens": 3, "messages": ask("Tell me everything about the sea")}
    if stream:
        with client.messages.stream(**kwargs) as s:
            message = s.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == "Echo: Tell m"  # 3 tokens of 4 characters
    assert message.usage.output_tokens == 3


PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"], "additionalProperties": False}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("field", ["output_format", "output_config"])
def test_structured_output(client: anthropic.Anthropic, model: str, field: str):
    fmt = {"type": "json_schema", "schema": PERSON}
    extra = {"output_format": fmt} if field == "output_format" else {"output_config": {"format": fmt}}
    message = client.messages.create(model=model, max_tokens=200, messages=ask("Describe a person"),
                                     extra_body=extra)
    assert [b.type for b in message.content] == ["text"] and message.stop_reason == "end_turn"
    person = json.loads(message.content[0].text)  # type: ignore[union-attr]
    assert set(person) == {"name", "age"} and isinstance(person["age"], int)
    with client.messages.stream(model=model, max_tokens=200, messages=ask("Describe a person"),
                                extra_body=extra) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text"]  # never the gateway's own JSON tool
    assert json.loads(final.content[0].text) == person  # type: ignore[union-attr]


# --- Anthropic-only content --------------------------------------------------------------------------


PDF = base64.b64encode(b"%PDF-1.4 tiny").decode()
DOCUMENT = {"role": "user", "content": [
    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
    {"type": "text", "text": "Summarise it"}]}


def test_document_reaches_an_anthropic_provider_verbatim(client: anthropic.Anthropic, gateway: Gateway):
    message = client.messages.create(model="an:claude-3-5-haiku-latest", max_tokens=100, messages=[DOCUMENT])
    assert message.content[0].text == "Echo: [document application/pdf 13 bytes] Summarise it"
    assert gateway.mock.requests()[-1]["body"]["messages"] == [DOCUMENT]


def test_document_for_another_provider_is_a_clear_400(client: anthropic.Anthropic):
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="oa:gpt-4o-mini", max_tokens=100, messages=[DOCUMENT])
    error = info.value.body["error"]  # type: ignore[index]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("messages.0.content.0: a 'document' block can only be sent to an Anthropic")
    assert "'oa' (openai)" in error["message"]


def test_cache_control_reaches_anthropic_and_is_reported(client: anthropic.Anthropic, gateway: Gateway):
    long_text = "word " * 1200  # over the mock's 1024-token cache block
    message = client.messages.create(model="an:claude-3-5-haiku-latest", max_tokens=20, messages=[
        {"role": "user", "content": [{"type": "text", "text": long_text, "cache_control": {"type": "ephemeral"}},
                                     {"type": "text", "text": "ok?"}]}])
    sent = gateway.mock.requests()[-1]["body"]
    assert sent["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    usage = message.usage
    assert usage.cache_read_input_tokens == 1024
    prompt = 3 + 4 + (len(long_text) + 3 + 3) // 4
    assert usage.cache_creation_input_tokens == (prompt - 1024) // 2
    assert usage.input_tokens == prompt - 1024 - usage.cache_creation_input_tokens
    same_for_openai = client.messages.create(model="oa:gpt-4o-mini", max_tokens=5, messages=[
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}])
    assert same_for_openai.content[0].text == "Echo: hi"  # an annotation other providers may lose


def test_anthropic_fields_pass_through(client: anthropic.Anthropic, gateway: Gateway):
    message = client.messages.create(
        model="an:claude-3-5-haiku-latest", max_tokens=2000, metadata={"user_id": "user-42"}, messages=ask("hi"),
        extra_body={"top_k": 5, "thinking": {"type": "enabled", "budget_tokens": 1024}})
    sent = gateway.mock.requests()[-1]["body"]
    assert (sent["top_k"], sent["metadata"], sent["thinking"]) == (
        5, {"user_id": "user-42"}, {"type": "enabled", "budget_tokens": 1024})
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == "Considering: hi" and thinking.signature
    assert text.type == "text" and text.text == "Echo: hi"


def test_streamed_thinking_with_its_signature(client: anthropic.Anthropic):
    with client.messages.stream(model="an:claude-3-5-haiku-latest", max_tokens=2000, messages=ask("why?"),
                                extra_body={"thinking": {"type": "enabled", "budget_tokens": 1024}}) as stream:
        thoughts = [e.thinking for e in stream if e.type == "thinking"]
        final = stream.get_final_message()
    assert "".join(thoughts) == "Considering: why?"
    thinking, text = final.content
    assert thinking.type == "thinking" and thinking.thinking == "Considering: why?" and len(thinking.signature) > 20
    assert text.type == "text" and text.text == "Echo: why?"


def test_document_on_a_route_with_another_provider_is_refused(client: anthropic.Anthropic, gateway: Gateway):
    before = gateway.mock.stats()["total"]
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="smart", max_tokens=100, messages=[DOCUMENT])
    assert "'broken' (openai)" in info.value.body["error"]["message"]  # type: ignore[index]
    assert gateway.mock.stats()["total"] == before  # refused before any upstream call


# --- errors ------------------------------------------------------------------------------------------


def test_missing_or_bad_key_is_401(gateway: Gateway):
    status, headers, body = post(gateway, {"model": MODELS[0], "max_tokens": 5, "messages": ask("hi")},
                                 {"content-type": "application/json"})
    assert status == 401 and headers["x-byway-request-id"].startswith("req_")
    assert json.loads(body) == {"type": "error", "error": {"type": "authentication_error",
                                                           "message": json.loads(body)["error"]["message"]}}
    with pytest.raises(anthropic.AuthenticationError) as info:
        gateway.anthropic(api_key="byw-not-a-key").messages.create(model=MODELS[0], max_tokens=5, messages=ask("x"))
    assert info.value.status_code == 401 and info.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_unknown_model_is_404(client: anthropic.Anthropic):
    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(model="claude-9-ultra", max_tokens=5, messages=ask("hi"))
    body: Any = info.value.body
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert "an:claude-3-5-haiku-latest" in body["error"]["message"]


@pytest.mark.parametrize(("body", "param"), [
    (b"{", None),
    (b"[]", None),
    (b'{"model": "an:claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
    (b'{"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}', "model"),
    (b'{"model": "an:claude-3-5-haiku-latest", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}',
     "max_tokens"),
    (b'{"model": "an:claude-3-5-haiku-latest", "max_tokens": 5, "messages": []}', "messages"),
    (b'{"model": "an:claude-3-5-haiku-latest", "max_tokens": 5, "messages": [{"role": "tool", "content": "x"}]}',
     "messages.0.role"),
    (b'{"model": "oa:gpt-4o-mini", "max_tokens": 5, "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}',
     "temperature"),
    (b'{"model": "oa:gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "video"}]}]}',
     "messages.0.content.0.type"),
    (b'{"model": "oa:gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image", '
     b'"source": {"type": "base64", "media_type": "image/png", "data": "@@@"}}]}]}', "messages.0.content.0.source.data"),
])
def test_bad_bodies_are_400_naming_the_field(gateway: Gateway, body: bytes, param: str | None):
    status, headers, data = post(gateway, body)
    assert status == 400, data
    assert headers["content-type"] == "application/json" and headers["x-byway-request-id"].startswith("req_")
    error = json.loads(data)
    assert set(error) == {"type", "error"} and error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error" and "Traceback" not in error["error"]["message"]
    if param is not None:
        assert error["error"]["message"].startswith(param + ":")


def test_bad_body_through_the_sdk(client: anthropic.Anthropic):
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="an:claude-3-5-haiku-latest", max_tokens=5, messages=[
            {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "x", "content": "y"}]}])
    assert info.value.body["error"]["message"].startswith("messages.0.content.0.type:")  # type: ignore[index]


def test_upstream_auth_failure_is_502(client: anthropic.Anthropic):
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(model="badkey:claude-3-5-haiku-latest", max_tokens=5, messages=ask("hi"))
    assert info.value.status_code == 502
    body: Any = info.value.body
    assert body["type"] == "error" and body["error"]["type"] == "api_error"
    assert body["error"]["message"].startswith("badkey:")


def test_upstream_rate_limit_is_429_with_retry_after(client: anthropic.Anthropic):
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model="limited:gpt-4o-mini", max_tokens=5, messages=ask("hi"))
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_fallback_route(client: anthropic.Anthropic):
    response = client.messages.with_raw_response.create(model="smart", max_tokens=20, messages=ask("hi"))
    assert response.parse().content[0].text == "Echo: hi"
    assert response.headers["x-byway-provider"] == "an" and response.headers["x-byway-attempts"] == "2"


def test_wrong_method_keeps_the_anthropic_envelope(gateway: Gateway):
    status, _, body = raw(gateway, "GET", "/v1/messages", None, X_API_KEY)
    assert status == 405 and json.loads(body)["type"] == "error"
