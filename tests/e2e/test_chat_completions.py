"""The OpenAI Chat Completions API through a real ``byway serve``, called with the official SDK."""

from __future__ import annotations

import base64
import http.client
import json
import time
from decimal import Decimal
from urllib.parse import urlsplit

import openai
import pytest
from genai_prices import Usage as CatalogueUsage
from genai_prices import calc_price

from tests.e2e.conftest import MASTER_KEY, Gateway

PNG_1PX = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e5b1d1"
    "0000000049454e44ae426082")).decode()

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string",
                   "enum": ["celsius", "fahrenheit"]}}, "required": ["city", "unit"]}}}


def raw(gateway: Gateway, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(gateway.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


AUTH = {"Authorization": f"Bearer {MASTER_KEY}", "Content-Type": "application/json"}


# --- text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["oa:gpt-4o-mini", "an:claude-3-5-haiku-latest", "az:my-deployment",
                                   "gpt-4o-mini", "claude-3-5-haiku-latest"])
def test_text_answer_with_usage_cost_and_headers(gateway: Gateway, model: str):
    raw_response = gateway.client().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": "Hello there"}], max_tokens=50)
    completion = raw_response.parse()
    assert completion.choices[0].message.content == "Echo: Hello there"
    assert completion.choices[0].finish_reason == "stop"
    # mock token rule: prompt = 3 + (4 + ceil(9/4)) + (4 + ceil(11/4)) = 3 + 7 + 7; answer ceil(17/4)
    assert completion.usage.prompt_tokens == 17
    assert completion.usage.completion_tokens == 5
    assert completion.usage.total_tokens == 22
    headers = raw_response.headers
    provider = headers["x-byway-provider"]
    assert provider == {"oa:gpt-4o-mini": "oa", "gpt-4o-mini": "oa", "az:my-deployment": "az"}.get(model, "an")
    assert headers["x-byway-model"] == model.partition(":")[2] or model
    assert headers["x-byway-attempts"] == "1"
    assert headers["x-byway-request-id"].startswith("req_")
    assert 0 <= float(headers["x-byway-overhead-ms"]) < 1000
    if provider == "az":  # a deployment name has no catalogue price
        assert "x-byway-cost-usd" not in headers
        return
    catalogue = {"oa": ("openai", "gpt-4o-mini"), "an": ("anthropic", "claude-3-5-haiku-latest")}[provider]
    expected = calc_price(CatalogueUsage(input_tokens=17, output_tokens=5), catalogue[1],
                          provider_id=catalogue[0]).total_price
    assert Decimal(headers["x-byway-cost-usd"]) == expected


def test_models_list(gateway: Gateway):
    models = [m.id for m in gateway.client().models.list()]
    assert models[0] == "smart"
    assert {"oa:gpt-4o-mini", "oa:o3-mini", "an:claude-3-5-haiku-latest"} <= set(models)


def test_health_endpoints(gateway: Gateway):
    assert raw(gateway, "GET", "/health")[::2] == (200, b'{"status":"ok"}')
    status, _, body = raw(gateway, "GET", "/health/ready")
    assert status == 200 and json.loads(body)["database"] == "ok"


# --- streams -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["oa:gpt-4o-mini", "an:claude-3-5-haiku-latest", "az:dep"])
def test_stream_with_usage(gateway: Gateway, model: str):
    chunks = list(gateway.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Tell me a story about streams"}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: Tell me a story about streams"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
    assert usage_chunks[0].usage.prompt_tokens == 3 + 4 + 8
    assert usage_chunks[0].usage.completion_tokens == 9


@pytest.mark.parametrize("model", ["oa:gpt-4o-mini", "an:claude-3-5-haiku-latest"])
def test_stream_without_usage_request_has_no_usage_chunk(gateway: Gateway, model: str):
    chunks = list(gateway.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], stream=True))
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hi"


def test_stream_helper_final_completion(gateway: Gateway):
    with gateway.client().chat.completions.stream(
            model="an:claude-3-5-haiku-latest", messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo", "unit": "celsius"}
    assert final.choices[0].finish_reason == "tool_calls"


# --- tools -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["oa:gpt-4o-mini", "an:claude-3-5-haiku-latest"])
def test_tool_call_and_result_round_trip(gateway: Gateway, model: str):
    client = gateway.client()
    messages: list[dict] = [{"role": "user", "content": "What is the weather in Paris and in Rome? Check both."}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_weather"]
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Paris"] or \
        all(json.loads(c.function.arguments)["unit"] in ("celsius", "fahrenheit") for c in calls)
    messages.append(choice.message.model_dump(exclude_none=True))
    for call, weather in zip(calls, ["Sunny, 24C", "Rain, 12C"], strict=True):
        messages.append({"role": "tool", "tool_call_id": call.id, "content": weather})
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Tool results: get_weather: Sunny, 24C; get_weather: Rain, 12C"


@pytest.mark.parametrize("model", ["oa:gpt-4o-mini", "an:claude-3-5-haiku-latest"])
def test_streamed_tool_call_arguments_arrive_in_fragments(gateway: Gateway, model: str):
    chunks = list(gateway.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Weather in Lisbon please"}], tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}}, stream=True))
    fragments = [tc.function.arguments for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])
                 if tc.function and tc.function.arguments]
    assert len(fragments) > 1
    starts = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or []) if tc.id]
    assert len(starts) == 1 and starts[0].function.name == "get_weather" and starts[0].index == 0
    assert json.loads("".join(fragments)) == {"city": "Lisbon", "unit": "celsius"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_json_mode_and_schema(gateway: Gateway):
    client = gateway.client()
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    for model in ("oa:gpt-4o-mini", "an:claude-3-5-haiku-latest"):
        answer = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Describe a person as JSON"}],
            response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema,
                                                                   "strict": True}})
        data = json.loads(answer.choices[0].message.content)
        assert set(data) == {"name", "age"} and isinstance(data["age"], int)
        assert answer.choices[0].finish_reason == "stop"


# --- images ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["oa:gpt-4o-mini", "an:claude-3-5-haiku-latest"])
def test_image_input(gateway: Gateway, model: str):
    answer = gateway.client().chat.completions.create(model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}}]}])
    size = len(base64.b64decode(PNG_1PX))
    assert answer.choices[0].message.content == f"Echo: What is this? [image image/png {size} bytes]"
    url_answer = gateway.client().chat.completions.create(model=model, messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}])
    assert url_answer.choices[0].message.content == "Echo: [image https://example.com/cat.jpg]"


# --- errors ------------------------------------------------------------------------------------------


def test_bad_gateway_key_is_401(gateway: Gateway):
    with pytest.raises(openai.AuthenticationError) as info:
        gateway.client(api_key="byw-not-a-key").chat.completions.create(
            model="oa:gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 401
    assert info.value.body["type"] == "authentication_error" and info.value.body["code"] == "invalid_api_key"
    status, _, body = raw(gateway, "POST", "/v1/chat/completions", b"{}", {"Content-Type": "application/json"})
    assert status == 401 and json.loads(body)["error"]["type"] == "authentication_error"


def test_unknown_model_is_404_listing_models(gateway: Gateway):
    with pytest.raises(openai.NotFoundError) as info:
        gateway.client().chat.completions.create(model="gpt-9-ultra", messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["code"] == "model_not_found"
    assert "oa:gpt-4o-mini" in info.value.body["message"]
    with pytest.raises(openai.NotFoundError) as info:  # the upstream's own "no such model"
        gateway.client().chat.completions.create(model="az:no-such-deployment",
                                                 messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["code"] == "model_not_found" and "az" in info.value.body["message"]


def test_upstream_500_is_502_upstream_error(gateway: Gateway):
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(model="broken:gpt-4o-mini",
                                                 messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502
    assert info.value.body["type"] == "upstream_error" and "broken" in info.value.body["message"]


def test_upstream_429_passes_on_with_retry_after(gateway: Gateway):
    with pytest.raises(openai.RateLimitError) as info:
        gateway.client().chat.completions.create(model="limited:gpt-4o-mini",
                                                 messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.body["type"] == "rate_limit_error" and info.value.body["code"] == "rate_limit_exceeded"


def test_bad_stored_provider_key_is_502_provider_auth_failed(gateway: Gateway):
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(model="badkey:claude-3-5-haiku-latest",
                                                 messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502 and info.value.body["code"] == "provider_auth_failed"


def test_upstream_invalid_request_is_400_with_its_message(gateway: Gateway):
    with pytest.raises(openai.BadRequestError) as info:  # a tool message answering no call: the upstream refuses
        gateway.client().chat.completions.create(model="oa:gpt-4o-mini", messages=[
            {"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_nope", "content": "x"}])
    assert info.value.status_code == 400 and "oa" in info.value.body["message"]


def test_timeout_is_504(gateway: Gateway):
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="sleepy:gpt-4o-mini",
                                                 messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 504 and info.value.body["code"] == "timeout"


def test_unreachable_provider_is_502(gateway: Gateway):
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(model="nowhere:gpt-4o-mini",
                                                 messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502 and "cannot reach" in info.value.body["message"]


def test_disabled_provider_is_503(gateway: Gateway):
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="dark:gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 503 and info.value.body["code"] == "provider_disabled"


def test_fallback_route_serves_from_the_second_target(gateway: Gateway):
    response = gateway.client().chat.completions.with_raw_response.create(
        model="smart", messages=[{"role": "user", "content": "hi"}])
    assert response.parse().choices[0].message.content == "Echo: hi"
    assert response.headers["x-byway-provider"] == "an"
    assert response.headers["x-byway-attempts"] == "2"


@pytest.mark.parametrize("model", ["cut:gpt-4o-mini", "cutan:claude-3-5-haiku-latest"])
def test_stream_cut_midway_ends_with_an_error_event(gateway: Gateway, model: str):
    status, headers, body = raw(gateway, "POST", "/v1/chat/completions", json.dumps({
        "model": model, "stream": True,
        "messages": [{"role": "user", "content": "a long enough answer to be cut somewhere in the middle"}]}).encode(),
        AUTH)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    lines = [line for line in body.decode().split("\n\n") if line.strip()]
    assert lines[0].startswith("data: {") and "Echo:" in body.decode()
    last = json.loads(lines[-1].removeprefix("data: "))
    assert set(last) == {"error"} and last["error"]["type"] == "upstream_error"
    assert "data: [DONE]" not in body.decode()
    with pytest.raises(openai.APIError):  # the SDK surfaces it as an error, not a silent end
        list(gateway.client().chat.completions.create(model=model, stream=True, messages=[
            {"role": "user", "content": "a long enough answer to be cut somewhere in the middle"}]))


def test_client_disconnect_cancels_the_upstream_stream(gateway: Gateway):
    before = gateway.mock.stats()["streams_abandoned"]
    parts = urlsplit(gateway.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", body=json.dumps({
        "model": "slow:gpt-4o-mini", "stream": True,
        "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten"}]}), headers=AUTH)
    response = conn.getresponse()
    assert response.status == 200
    assert response.read(6) == b"data: "  # the stream has started
    conn.close()  # walk away mid-stream (the mock pauses 300 ms between events)
    deadline = time.time() + 5
    while gateway.mock.stats()["streams_abandoned"] == before and time.time() < deadline:
        time.sleep(0.05)
    assert gateway.mock.stats()["streams_abandoned"] == before + 1


@pytest.mark.parametrize("include_usage", [True, False])
def test_a_passed_through_stream_arrives_whole_with_one_end(gateway: Gateway, include_usage: bool):
    body = {"model": "oa:gpt-4o-mini", "stream": True, "stream_options": {"include_usage": include_usage},
            "messages": [{"role": "user", "content": "Write a few words about lighthouses and the sea"}]}
    status, _, data = raw(gateway, "POST", "/v1/chat/completions", json.dumps(body).encode(), AUTH)
    assert status == 200
    events = data.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""] and data.count(b"data: [DONE]") == 1
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert len({c["id"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Echo: Write a few words about lighthouses and the sea"
    usage = [c["usage"] for c in chunks if c.get("usage")]
    if include_usage:  # the client asked: the provider's own usage chunk, once, last
        assert len(usage) == 1 and chunks[-1]["usage"] == usage[0] and usage[0]["completion_tokens"] > 0
    else:  # the gateway asked for usage for itself; the client does not see it
        assert usage == []
