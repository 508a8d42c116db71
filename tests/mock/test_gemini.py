"""The Gemini mock, driven by the official ``google-genai`` SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pydantic
import pytest
from google import genai
from google.genai import errors, types

from byway.mock import MockServer
from tests.mock.rawhttp import post_json

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d4944415478"
                    "9c636060f80f0001040100c12d8e500000000049454e44ae426082")
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)
WEATHER = types.FunctionDeclaration(
    name="get_weather", description="Current weather",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                            "required": ["city", "days"], "additionalProperties": False})
TIME = types.FunctionDeclaration(name="get_time", parameters=types.Schema(
    type=types.Type.OBJECT, properties={"tz": types.Schema(type=types.Type.STRING)}, required=["tz"]))


def client_for(server: MockServer, key: str = "AIza-test", prefix: str = "") -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(
        base_url=server.url + prefix + "/gemini", retry_options=types.HttpRetryOptions(attempts=1)))


@pytest.fixture(scope="module")
def client(mock: MockServer) -> Iterator[genai.Client]:
    client = client_for(mock)
    yield client
    client.close()


def tools(*declarations: types.FunctionDeclaration, mode: str | None = None,
          allowed: list[str] | None = None) -> types.GenerateContentConfig:
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=list(declarations))],
                                         automatic_function_calling=NO_AFC)
    if mode is not None:
        config.tool_config = types.ToolConfig(function_calling_config=types.FunctionCallingConfig(
            mode=mode, allowed_function_names=allowed))
    return config


def test_text(client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-2.0-flash", contents="Hello there",
                                              config=types.GenerateContentConfig(system_instruction="Be brief."))
    assert response.text == "Echo: Hello there"
    assert response.model_version == "gemini-2.0-flash" and len(response.response_id) == 23
    [candidate] = response.candidates
    assert candidate.finish_reason == types.FinishReason.STOP and candidate.content.role == "model"
    usage = response.usage_metadata
    # 3 + system (4 + 3) + user (4 + 3) = 17 in, "Echo: Hello there" = 5 out
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (17, 5, 22)
    assert usage.thoughts_token_count is None
    assert usage.prompt_tokens_details[0].modality == types.MediaModality.TEXT


def test_stream(client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="Hello there you"))
    assert [c.text for c in chunks] == ["Echo:", " Hello", " there", " you"]
    assert [c.candidates[0].finish_reason for c in chunks] == [None, None, None, types.FinishReason.STOP]
    assert [c.usage_metadata.candidates_token_count for c in chunks] == [2, 3, 5, 6]
    assert len({c.response_id for c in chunks}) == 1


def test_stream_wire_format(mock: MockServer) -> None:
    answer = post_json(mock.url + "/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
                       {"contents": [{"role": "user", "parts": [{"text": "Hi you"}]}]}, {"x-goog-api-key": "k"})
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
    events = answer.text.split("\r\n\r\n")
    assert events[-1] == "" and all(e.startswith("data: {") for e in events[:-1]) and len(events) == 4
    assert "event:" not in answer.text and "[DONE]" not in answer.text


def test_thinking_model(client: genai.Client) -> None:
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True))
    response = client.models.generate_content(model="gemini-2.5-flash", contents="Hello there", config=config)
    thought, text = response.candidates[0].content.parts
    assert (thought.thought, thought.text) == (True, "Considering: Hello there")
    assert text.text == "Echo: Hello there" and response.text == "Echo: Hello there"
    assert (response.usage_metadata.thoughts_token_count, response.usage_metadata.candidates_token_count) == (6, 5)
    hidden = client.models.generate_content(model="gemini-2.5-flash", contents="Hello there")
    assert len(hidden.candidates[0].content.parts) == 1 and hidden.usage_metadata.thoughts_token_count == 6
    off = client.models.generate_content(model="gemini-2.5-flash", contents="Hello there", config=types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(thinking_budget=0)))
    assert off.usage_metadata.thoughts_token_count is None


def test_function_call_with_parsed_arguments(client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-2.0-flash", contents="What is the weather in Tokyo?",
                                              config=tools(WEATHER, TIME))
    [call] = response.function_calls
    assert (call.name, call.args, call.id) == ("get_weather", {"city": "Tokyo", "days": 1}, None)
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    both = client.models.generate_content(model="gemini-2.0-flash", contents="Weather and time in Cairo, both",
                                          config=tools(WEATHER, TIME))
    assert [(c.name, c.args) for c in both.function_calls] == [("get_weather", {"city": "Cairo", "days": 1}),
                                                              ("get_time", {"tz": "example"})]


def test_tool_config_modes(client: genai.Client) -> None:
    forced = client.models.generate_content(model="gemini-2.0-flash", contents="Hi",
                                            config=tools(WEATHER, TIME, mode="ANY", allowed=["get_time"]))
    assert [c.name for c in forced.function_calls] == ["get_time"]
    none = client.models.generate_content(model="gemini-2.0-flash", contents="Weather in Rome?",
                                          config=tools(WEATHER, mode="NONE"))
    assert none.function_calls is None and none.text == "Echo: Weather in Rome?"


def test_function_response_round_trip(client: genai.Client) -> None:
    question = types.Content(role="user", parts=[types.Part.from_text(text="Weather in Lima?")])
    first = client.models.generate_content(model="gemini-2.0-flash", contents=[question], config=tools(WEATHER))
    [call] = first.function_calls
    answer = types.Content(role="user", parts=[types.Part.from_function_response(
        name=call.name, response={"output": "Foggy, 17C"})])
    second = client.models.generate_content(model="gemini-2.0-flash", config=tools(WEATHER),
                                            contents=[question, first.candidates[0].content, answer])
    assert second.text == "Tool results: get_weather: Foggy, 17C"
    assert second.function_calls is None


def test_chat_keeps_gemini_3_signatures(client: genai.Client) -> None:
    # Gemini 3 refuses history whose calls lost their thoughtSignature; the SDK's chat echoes them back.
    chat = client.chats.create(model="gemini-3-flash-preview", config=tools(WEATHER))
    first = chat.send_message("Weather in Quito?")
    part = first.candidates[0].content.parts[0]
    assert part.function_call.name == "get_weather" and part.thought_signature
    second = chat.send_message(types.Part.from_function_response(name="get_weather", response={"result": "Rain"}))
    assert second.text == "Tool results: get_weather: Rain"


def test_gemini_3_history_without_a_signature_is_refused(client: genai.Client) -> None:
    call = types.Content(role="model", parts=[types.Part.from_function_call(name="get_weather", args={"city": "X"})])
    answer = types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather",
                                                                                 response={"r": "ok"})])
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-3-flash-preview", config=tools(WEATHER),
                                       contents=[types.Content(role="user", parts=[types.Part(text="Q")]), call, answer])
    assert caught.value.code == 400 and "thought_signature" in caught.value.message


def test_inline_image(client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-2.0-flash", contents=[
        types.Part.from_text(text="What is this?"), types.Part.from_bytes(data=PNG, mime_type="image/png")])
    assert response.text == f"Echo: What is this? [image image/png {len(PNG)} bytes]"
    details = {d.modality: d.token_count for d in response.usage_metadata.prompt_tokens_details}
    assert details == {types.MediaModality.TEXT: 3 + 4 + 4, types.MediaModality.IMAGE: 85}


class City(pydantic.BaseModel):
    city: str
    population: int


def test_json_schema(client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-2.0-flash", contents="Largest city in Peru?",
                                              config=types.GenerateContentConfig(response_mime_type="application/json",
                                                                                 response_schema=City))
    assert response.parsed == City(city="Paris", population=1)
    raw = client.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema={
            "type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
            "additionalProperties": False}))
    assert raw.text == '{"ok":true}'
    free = client.models.generate_content(model="gemini-2.0-flash", contents="Hi", config=types.GenerateContentConfig(
        response_mime_type="application/json"))
    assert free.text == '{"reply":"Echo: Hi"}'


def test_limits(client: genai.Client) -> None:
    cut = client.models.generate_content(model="gemini-2.0-flash", contents="one two three four five six",
                                         config=types.GenerateContentConfig(max_output_tokens=2))
    assert (cut.text, cut.candidates[0].finish_reason) == ("Echo: on", types.FinishReason.MAX_TOKENS)
    stopped = client.models.generate_content(model="gemini-2.0-flash", contents="alpha beta gamma",
                                             config=types.GenerateContentConfig(stop_sequences=[" gamma"]))
    assert (stopped.text, stopped.candidates[0].finish_reason) == ("Echo: alpha beta", types.FinishReason.STOP)


def test_embeddings(client: genai.Client) -> None:
    result = client.models.embed_content(model="gemini-embedding-001", contents=["first", "second", "first"],
                                         config=types.EmbedContentConfig(output_dimensionality=32,
                                                                         task_type="RETRIEVAL_DOCUMENT"))
    vectors = [e.values for e in result.embeddings]
    assert [len(v) for v in vectors] == [32, 32, 32]
    assert vectors[0] == vectors[2] != vectors[1]
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-5
    full = client.models.embed_content(model="text-embedding-004", contents="just one")
    assert len(full.embeddings[0].values) == 768


def test_count_tokens_and_models(client: genai.Client) -> None:
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="Hello there").total_tokens == 10
    names = [m.name for m in client.models.list(config={"page_size": 3})]
    assert names[:2] == ["models/gemini-2.5-flash", "models/gemini-2.5-pro"] and len(names) == 7
    model = client.models.get(model="gemini-2.0-flash")
    assert (model.display_name, model.output_token_limit) == ("Gemini 2.0 Flash", 8192)
    assert "generateContent" in model.supported_actions


async def test_async_stream(mock: MockServer) -> None:
    client = client_for(mock)
    pieces = [c.text async for c in await client.aio.models.generate_content_stream(
        model="gemini-2.0-flash", contents="async hello")]
    assert pieces == ["Echo:", " async", " hello"]
    await client.aio.aclose()


def test_errors(mock: MockServer) -> None:
    bad = client_for(mock, key="bad-key")
    with pytest.raises(errors.ClientError) as caught:
        bad.models.generate_content(model="gemini-2.0-flash", contents="hi")
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert caught.value.message == "API key not valid. Please pass a valid API key."
    assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    good = client_for(mock)
    with pytest.raises(errors.ClientError) as missing:
        good.models.generate_content(model="no-such-model", contents="hi")
    assert (missing.value.code, missing.value.status) == (404, "NOT_FOUND")
    assert missing.value.message.startswith("models/no-such-model is not found for API version v1,")
    limited = client_for(mock, prefix="/fault/status=429,retry_after=9")
    with pytest.raises(errors.ClientError) as quota:
        limited.models.generate_content(model="gemini-2.0-flash", contents="hi")
    assert (quota.value.code, quota.value.status) == (429, "RESOURCE_EXHAUSTED")
    retry = [d for d in quota.value.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "9s"}]
    overloaded = client_for(mock, prefix="/fault/status=503")
    with pytest.raises(errors.ServerError) as down:
        overloaded.models.generate_content(model="gemini-2.0-flash", contents="hi")
    assert (down.value.code, down.value.status) == (503, "UNAVAILABLE")
    for c in (bad, good, limited, overloaded):
        c.close()
