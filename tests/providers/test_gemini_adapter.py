"""Gemini and Vertex request building, URLs, model lists and embeddings (pure translation, no network)."""

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
    UpstreamUnavailableError,
)
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini import GeminiAdapter
from byway.providers.gemini_request import PLACEHOLDER_SIGNATURE, build_body
from byway.providers.registry import adapter_for

GEMINI = GeminiAdapter(spec_for(ProviderType.GEMINI))
VERTEX = GeminiAdapter(spec_for(ProviderType.VERTEX))
PROVIDER = ProviderConfig(provider_type=ProviderType.GEMINI, name="gm", api_key="AIza-key")
VX = ProviderConfig(provider_type=ProviderType.VERTEX, name="vx", project="my-proj", location="europe-west4",
                    credentials_json="{}")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def user(text: str) -> Message:
    return Message(role="user", parts=[TextPart(text)])


def body(*messages: Message, **kw: Any) -> dict[str, Any]:
    return build_body(ChatRequest(model=kw.pop("model", "gemini-2.5-flash"), messages=list(messages), **kw))


def test_registry_serves_both_types() -> None:
    gemini, vertex = adapter_for("gemini"), adapter_for("vertex")
    assert isinstance(gemini, GeminiAdapter) and isinstance(vertex, GeminiAdapter)
    assert (gemini.vertex, vertex.vertex, gemini.inline_images, gemini.family) == (False, True, True, "gemini")


# -- URLs and headers --------------------------------------------------------------------------------------------


def test_gemini_urls_and_key_header() -> None:
    call = GEMINI.chat_call(PROVIDER, ChatRequest(model="models/gemini-2.5-flash", messages=[user("hi")]))
    assert call.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    assert call.headers == {"content-type": "application/json", "x-goog-api-key": "AIza-key"}
    streamed = GEMINI.chat_call(PROVIDER, ChatRequest(model="gemini-2.5-flash", messages=[user("hi")], stream=True))
    assert streamed.url.endswith("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    custom = ProviderConfig(provider_type=ProviderType.GEMINI, api_key="k", base_url="http://127.0.0.1:9/gemini/")
    assert GEMINI.models_call(custom).url == "http://127.0.0.1:9/gemini/v1beta/models?pageSize=1000"
    assert GEMINI.validate_call(custom).url == GEMINI.models_call(custom).url


def test_vertex_urls() -> None:
    call = VERTEX.chat_call(VX, ChatRequest(model="gemini-2.0-flash", messages=[user("hi")]))
    assert call.url == ("https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/"
                        "publishers/google/models/gemini-2.0-flash:generateContent")
    assert "authorization" not in call.headers and "x-goog-api-key" not in call.headers  # added by authorize()
    worldwide = ProviderConfig(provider_type=ProviderType.VERTEX, project="p", location="global", credentials_json="{}")
    assert VERTEX.chat_call(worldwide, ChatRequest(model="gemini-2.5-pro", messages=[user("hi")], stream=True)).url == (
        "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/"
        "gemini-2.5-pro:streamGenerateContent?alt=sse")
    default = ProviderConfig(provider_type=ProviderType.VERTEX, project="p", credentials_json="{}")
    assert VERTEX.models_call(default).url == (
        "https://us-central1-aiplatform.googleapis.com/v1beta1/publishers/google/models?pageSize=1000")


def test_models_lists() -> None:
    gemini = msgspec.json.encode({"models": [{"name": "models/gemini-2.5-flash"}, {"name": "models/embedding-001"}],
                                  "nextPageToken": "x"})
    assert GEMINI.parse_models(PROVIDER, gemini) == ["gemini-2.5-flash", "embedding-001"]
    vertex = msgspec.json.encode({"publisherModels": [{"name": "publishers/google/models/gemini-2.0-flash-001",
                                                       "versionId": "001"}]})
    assert VERTEX.parse_models(VX, vertex) == ["gemini-2.0-flash-001"]
    with pytest.raises(UpstreamUnavailableError, match="gm: unreadable model list"):
        GEMINI.parse_models(PROVIDER, b"<html>")


# -- messages ----------------------------------------------------------------------------------------------------


def test_system_and_developer_become_the_instruction() -> None:
    out = body(Message(role="system", parts=[TextPart("Be brief.")]), user("Hi"),
               Message(role="developer", parts=[TextPart("Answer in French.")]))
    assert out["systemInstruction"] == {"role": "user", "parts": [{"text": "Be brief."}, {"text": "Answer in French."}]}
    assert out["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


def test_only_instructions_still_send_a_content() -> None:
    out = body(Message(role="system", parts=[TextPart("Tell a joke.")]))
    assert out["contents"] == [{"role": "user", "parts": [{"text": ""}]}]


def test_tool_results_answer_by_name_and_merge() -> None:
    out = body(
        user("Weather in Paris and Rome?"),
        Message(role="assistant", parts=[TextPart("Checking."),
                                         ToolCallPart(id="call_a", name="get_weather", arguments='{"city":"Paris"}'),
                                         ToolCallPart(id="call_b", name="get_weather", arguments='{"city":"Rome"}')]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="call_a", content=[TextPart("Sunny")])]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="call_b", content=[TextPart("boom")], is_error=True)]),
        user("Thanks!"),
    )
    model, results = out["contents"][1], out["contents"][2]
    assert model == {"role": "model", "parts": [
        {"text": "Checking."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_a"}},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "call_b"}}]}
    assert results == {"role": "user", "parts": [
        {"functionResponse": {"id": "call_a", "name": "get_weather", "response": {"output": "Sunny"}}},
        {"functionResponse": {"id": "call_b", "name": "get_weather", "response": {"error": "boom"}}},
        {"text": "Thanks!"}]}
    assert len(out["contents"]) == 3


def test_tool_result_name_from_the_part_when_the_call_is_not_in_view() -> None:
    out = body(Message(role="tool", parts=[ToolResultPart(tool_call_id="x1", name="lookup", content=[TextPart("42")])]))
    assert out["contents"][0]["parts"][0]["functionResponse"]["name"] == "lookup"
    with pytest.raises(InvalidRequestError, match=r"messages\[0\].*answers no earlier tool call") as caught:
        body(Message(role="tool", parts=[ToolResultPart(tool_call_id="x2", content=[TextPart("?")])]))
    assert caught.value.param == "messages[0]"


def test_images_in_tool_results_follow_the_response() -> None:
    out = body(Message(role="assistant", parts=[ToolCallPart(id="c", name="snap")]),
               Message(role="tool", parts=[ToolResultPart(tool_call_id="c", content=[
                   TextPart("here"), ImagePart(data=PNG, media_type="image/png")])]))
    assert out["contents"][1]["parts"] == [
        {"functionResponse": {"id": "c", "name": "snap", "response": {"output": "here"}}},
        {"inlineData": {"mimeType": "image/png", "data": PNG}}]


def test_arguments_must_be_an_object() -> None:
    with pytest.raises(InvalidRequestError, match=r"messages\[1\]: the arguments of tool call 'c1'"):
        body(user("x"), Message(role="assistant", parts=[ToolCallPart(id="c1", name="f", arguments="[1, 2]")]))
    out = body(user("x"), Message(role="assistant", parts=[ToolCallPart(id="c1", name="f", arguments="")]))
    assert out["contents"][1]["parts"][0]["functionCall"]["args"] == {}


def test_images_inline_only() -> None:
    out = body(Message(role="user", parts=[TextPart("What is it?"), ImagePart(data=PNG),
                                           ImagePart(url=f"data:image/webp;base64,{PNG}")]))
    assert out["contents"][0]["parts"][1:] == [{"inlineData": {"mimeType": "image/png", "data": PNG}},
                                               {"inlineData": {"mimeType": "image/webp", "data": PNG}}]
    with pytest.raises(InvalidRequestError, match="Gemini takes images as inline data") as caught:
        body(Message(role="user", parts=[ImagePart(url="https://example.com/cat.png")]))
    assert caught.value.param == "messages[0]"


def test_signatures_go_back_only_to_gemini() -> None:
    own = ThinkingPart(signature="gemini:c2ln")
    foreign = ThinkingPart(text="I'll look it up", signature="EqQBCkYIBxgCKkB")  # e.g. Anthropic's
    thought = ThinkingPart(text="Let me think", signature="gemini:dGhvdWdodA==")
    out = body(user("q"), Message(role="assistant", parts=[thought, own, ToolCallPart(id="c", name="f"), foreign,
                                                          TextPart("done")]), model="gemini-2.5-flash")
    assert out["contents"][1]["parts"] == [
        {"text": "Let me think", "thought": True, "thoughtSignature": "dGhvdWdodA=="},
        {"functionCall": {"name": "f", "args": {}, "id": "c"}, "thoughtSignature": "c2ln"},
        {"text": "done"}]


def test_gemini_3_calls_without_a_signature_get_the_placeholder() -> None:
    history = [user("q"), Message(role="assistant", parts=[ToolCallPart(id="a", name="f"), ToolCallPart(id="b", name="f")]),
               Message(role="tool", parts=[ToolResultPart(tool_call_id="a", content=[TextPart("1")])]),
               Message(role="tool", parts=[ToolResultPart(tool_call_id="b", content=[TextPart("2")])])]
    three = body(*history, model="gemini-3-pro-preview")["contents"][1]["parts"]
    assert three[0]["thoughtSignature"] == PLACEHOLDER_SIGNATURE and "thoughtSignature" not in three[1]
    two = body(*history, model="gemini-2.5-flash")["contents"][1]["parts"]
    assert all("thoughtSignature" not in p for p in two)


# -- tools and configuration -------------------------------------------------------------------------------------


def test_tools_and_choices() -> None:
    tool = Tool(name="lookup", description="Find a thing",
                parameters={"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                            "properties": {"q": {"type": "string"}}, "additionalProperties": False})
    out = body(user("x"), tools=[tool, Tool(name="bare", parameters={})], tool_choice=ToolChoice(mode="auto"))
    assert out["tools"] == [{"functionDeclarations": [
        {"name": "lookup", "description": "Find a thing", "parametersJsonSchema": {
            "type": "object", "properties": {"q": {"type": "string"}}, "additionalProperties": False}},
        {"name": "bare", "parametersJsonSchema": {"type": "object", "properties": {}}}]}]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    forced = body(user("x"), tools=[tool], tool_choice=ToolChoice(mode="tool", name="lookup"))
    assert forced["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["lookup"]}}
    assert "toolConfig" not in body(user("x"), tools=[tool])
    assert "tools" not in body(user("x"), tool_choice=ToolChoice(mode="none"))


def test_generation_config() -> None:
    out = body(user("x"), temperature=0.3, top_p=0.9, max_tokens=50, stop=["END", ""], seed=7,
               response_format=ResponseFormat(type="json_object"))
    assert out["generationConfig"] == {"candidateCount": 1, "temperature": 0.3, "topP": 0.9, "maxOutputTokens": 50,
                                       "stopSequences": ["END"], "seed": 7, "responseMimeType": "application/json"}


@pytest.mark.parametrize(("model", "effort", "expected"), [
    ("gemini-2.5-flash", "low", {"thinkingBudget": 1024, "includeThoughts": True}),
    ("gemini-2.5-flash", "none", {"thinkingBudget": 0}),
    ("gemini-2.5-pro", "minimal", {"thinkingBudget": 128, "includeThoughts": True}),
    ("gemini-3-pro-preview", "medium", {"thinkingLevel": "high", "includeThoughts": True}),
    ("gemini-3-flash-preview", "low", {"thinkingLevel": "low", "includeThoughts": True}),
    ("gemini-2.0-flash", "high", None),
])
def test_reasoning_effort(model: str, effort: str, expected: dict | None) -> None:
    config = body(user("x"), model=model, reasoning_effort=effort)["generationConfig"]
    assert config.get("thinkingConfig") == expected


# -- embeddings --------------------------------------------------------------------------------------------------


def test_gemini_embeddings_batches_of_100_with_estimated_usage() -> None:
    texts = [f"text number {n}" for n in range(130)]
    request = EmbeddingRequest(model="gemini-embedding-001", inputs=texts, dimensions=256, input_type="search_query")
    calls = GEMINI.embeddings_calls(PROVIDER, request)
    assert [c.url for c in calls] == [
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents"] * 2
    first = msgspec.json.decode(calls[0].body)["requests"]
    assert len(first) == 100 and len(msgspec.json.decode(calls[1].body)["requests"]) == 30
    assert first[0] == {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "text number 0"}]},
                        "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 256}
    answers = [msgspec.json.encode({"embeddings": [{"values": [float(n), 0.5]} for n in range(k)]}) for k in (100, 30)]
    result = GEMINI.parse_embeddings(PROVIDER, request, answers)
    assert len(result.vectors) == 130 and result.vectors[101] == [1.0, 0.5]
    assert result.estimated is True
    assert result.usage.input_tokens == sum((len(t) + 3) // 4 for t in texts)
    assert (result.model, result.provider) == ("gemini-embedding-001", "gm")


def test_gemini_embeddings_count_mismatch() -> None:
    request = EmbeddingRequest(model="text-embedding-004", inputs=["a", "b"])
    with pytest.raises(UpstreamUnavailableError, match="1 embeddings for 2 inputs"):
        GEMINI.parse_embeddings(PROVIDER, request, [msgspec.json.encode({"embeddings": [{"values": [1.0]}]})])


def test_vertex_embeddings_predict() -> None:
    request = EmbeddingRequest(model="text-embedding-005", inputs=["alpha", "beta"], input_type="clustering",
                               dimensions=64)
    [call] = VERTEX.embeddings_calls(VX, request)
    assert call.url == ("https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/"
                        "publishers/google/models/text-embedding-005:predict")
    assert msgspec.json.decode(call.body) == {
        "instances": [{"content": "alpha", "task_type": "CLUSTERING"}, {"content": "beta", "task_type": "CLUSTERING"}],
        "parameters": {"outputDimensionality": 64}}
    answer = msgspec.json.encode({"predictions": [
        {"embeddings": {"values": [0.1], "statistics": {"token_count": 2.0, "truncated": False}}},
        {"embeddings": {"values": [0.2], "statistics": {"token_count": 3, "truncated": False}}}]})
    result = VERTEX.parse_embeddings(VX, request, [answer])
    assert (result.vectors, result.usage.input_tokens, result.estimated) == ([[0.1], [0.2]], 5, False)


def test_vertex_gemini_embedding_takes_one_text_per_call() -> None:
    request = EmbeddingRequest(model="gemini-embedding-001", inputs=["a", "b", "c"])
    calls = VERTEX.embeddings_calls(VX, request)
    assert [msgspec.json.decode(c.body)["instances"] for c in calls] == [
        [{"content": "a"}], [{"content": "b"}], [{"content": "c"}]]
