"""The Ollama mock over raw HTTP (no SDK needed), against the documented native shapes: ``/api/chat`` JSON and
NDJSON streams, tools, thinking, JSON mode, limits, images, ``/api/embed``, ``/api/tags``, errors and faults."""

from __future__ import annotations

import base64
import http.client
import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import Raw, post_json, raw_request

MODEL = "llama3.1:8b"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather for a city.",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(60)).decode()
RFC3339_NANOS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def chat(server: MockServer, prefix: str = "", headers: dict[str, str] | None = None, **body: Any) -> Raw:
    body.setdefault("model", MODEL)
    return post_json(server.url + prefix + "/ollama/api/chat", body, headers)


def user(text: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text, **extra}]


def ndjson(answer: Raw) -> list[dict[str, Any]]:
    assert answer.text.endswith("\n")
    return [json.loads(line) for line in answer.text.splitlines()]


def prompt_tokens(*texts: str) -> int:
    return 3 + sum(4 + math.ceil(len(t) / 4) for t in texts)


# -- chat ------------------------------------------------------------------------------------------------------


def test_a_plain_answer_has_ollama_s_fields(mock: MockServer) -> None:
    answer = chat(mock, messages=user("why is the sky blue?"), stream=False)
    assert answer.status == 200
    body = answer.json
    assert set(body) == {"model", "created_at", "message", "done_reason", "done", "total_duration", "load_duration",
                         "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"}
    assert body["model"] == MODEL and body["done"] is True and body["done_reason"] == "stop"
    assert RFC3339_NANOS.match(body["created_at"])
    assert body["message"] == {"role": "assistant", "content": "Echo: why is the sky blue?"}
    assert body["prompt_eval_count"] == prompt_tokens("why is the sky blue?")
    assert body["eval_count"] == 7
    assert body["total_duration"] == body["load_duration"] + body["prompt_eval_duration"] + body["eval_duration"]


def test_streaming_is_the_default_and_usage_comes_last(mock: MockServer) -> None:
    answer = chat(mock, messages=user("why is the sky blue?"))  # no "stream": Ollama streams
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = ndjson(answer)
    assert [line["done"] for line in lines] == [False] * (len(lines) - 1) + [True]
    assert "".join(line["message"]["content"] for line in lines) == "Echo: why is the sky blue?"
    assert all("eval_count" not in line for line in lines[:-1])
    last = lines[-1]
    assert (last["done_reason"], last["prompt_eval_count"], last["eval_count"]) == (
        "stop", prompt_tokens("why is the sky blue?"), 7)
    assert all(line["message"]["role"] == "assistant" and line["model"] == MODEL for line in lines)


def test_tool_calls_arrive_whole_with_object_arguments(mock: MockServer) -> None:
    body = chat(mock, messages=user("What is the weather in Paris?"), tools=[WEATHER], stream=False).json
    assert body["done_reason"] == "stop"  # Ollama has no tool-call reason
    assert body["message"]["content"] == ""
    assert body["message"]["tool_calls"] == [{"function": {"index": 0, "name": "get_weather",
                                                           "arguments": {"city": "Paris"}}}]
    lines = ndjson(chat(mock, messages=user("What is the weather in Rome?"), tools=[WEATHER]))
    (calls,) = [line["message"]["tool_calls"] for line in lines if "tool_calls" in line["message"]]
    assert calls[0]["function"]["arguments"] == {"city": "Rome"}


def test_tool_results_round_trip_by_tool_name(mock: MockServer) -> None:
    history = [*user("What is the weather in Paris?"),
               {"role": "assistant", "content": "", "tool_calls": [
                   {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
               {"role": "tool", "content": "Sunny, 22C", "tool_name": "get_weather"}]
    body = chat(mock, messages=history, tools=[WEATHER], stream=False).json
    assert body["message"]["content"] == "Tool results: get_weather: Sunny, 22C"


def test_think_turns_on_thinking(mock: MockServer) -> None:
    body = chat(mock, model="qwen3:0.6b", messages=user("Count to three"), think=True, stream=False).json
    assert body["message"]["thinking"] == "Considering: Count to three"
    assert body["message"]["content"] == "Echo: Count to three"
    lines = ndjson(chat(mock, model="qwen3:0.6b", messages=user("Count"), think="high"))
    assert "".join(line["message"].get("thinking", "") for line in lines) == "Considering: Count"
    assert "thinking" not in chat(mock, messages=user("Count"), stream=False).json["message"]


def test_json_formats(mock: MockServer) -> None:
    bare = chat(mock, messages=user("Reply using JSON"), format="json", stream=False).json
    assert json.loads(bare["message"]["content"]) == {"reply": "Echo: Reply using JSON"}
    schema = {"type": "object", "properties": {"age": {"type": "integer"}, "available": {"type": "boolean"}},
              "required": ["age", "available"]}
    shaped = json.loads(chat(mock, messages=user("Ollama is 22"), format=schema, stream=False).json["message"][
        "content"])
    assert set(shaped) == {"age", "available"} and isinstance(shaped["available"], bool)


def test_options_limit_and_stop(mock: MockServer) -> None:
    cut = chat(mock, messages=user("a long sentence to cut"), options={"num_predict": 2}, stream=False).json
    assert (cut["done_reason"], cut["message"]["content"], cut["eval_count"]) == ("length", "Echo: a ", 2)
    stopped = chat(mock, messages=user("one, two, three"), options={"stop": [", two"], "temperature": 0.2},
                   stream=False).json
    assert stopped["message"]["content"] == "Echo: one"


def test_images_are_base64_and_described(mock: MockServer) -> None:
    body = chat(mock, model="llava", messages=user("what is in this image?", images=[PNG]), stream=False).json
    assert body["message"]["content"] == "Echo: what is in this image? [image image/png 68 bytes]"
    assert body["prompt_eval_count"] == prompt_tokens("what is in this image?") + 85


def test_no_messages_only_loads_the_model(mock: MockServer) -> None:
    body = chat(mock, messages=[]).json
    assert (body["done_reason"], body["done"], body["message"]) == ("load", True,
                                                                    {"role": "assistant", "content": ""})


# -- errors ----------------------------------------------------------------------------------------------------


def test_an_unknown_model_is_404_in_ollama_s_shape(mock: MockServer) -> None:
    answer = chat(mock, model="no-such-model", messages=user("hi"))
    assert answer.status == 404
    assert answer.json == {"error": 'model "no-such-model" not found, try pulling it first'}


@pytest.mark.parametrize(("body", "message"), [
    ({"model": "", "messages": user("hi")}, "model is required"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
     "cannot unmarshal array into Go struct field Message.messages.content of type string"),
    ({"messages": [{"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}]},
     "cannot unmarshal string into Go struct field ToolCallFunction"),
    ({"messages": user("hi", images=["not base64!"])}, "illegal base64 data"),
    ({"messages": user("hi"), "format": "yaml"}, "invalid format"),
    ({"messages": user("hi"), "options": {"num_predict": "ten"}}, "must be of type integer"),
    ({"messages": user("hi"), "think": "max"}, "invalid think value"),
    ({"messages": [{"role": "robot", "content": "beep"}]}, "invalid role"),
])
def test_malformed_requests_are_400s(mock: MockServer, body: dict[str, Any], message: str) -> None:
    answer = chat(mock, **body)
    assert answer.status == 400
    assert set(answer.json) == {"error"}
    assert message in answer.json["error"]


def test_auth_is_optional_but_a_bad_key_is_refused(mock: MockServer) -> None:
    assert chat(mock, messages=user("hi"), stream=False, headers={"Authorization": "Bearer ollama-key"}).status == 200
    refused = chat(mock, messages=user("hi"), headers={"Authorization": "Bearer bad-key"})
    assert (refused.status, refused.json) == (401, {"error": "unauthorized"})


# -- faults ----------------------------------------------------------------------------------------------------


def test_status_faults_answer_in_ollama_s_shape(fresh: MockServer) -> None:
    answer = chat(fresh, prefix="/fault/status=503,retry_after=4", messages=user("hi"))
    assert answer.status == 503
    assert answer.headers["retry-after"] == "4"
    assert answer.json == {"error": "server busy, please try again.  maximum pending requests exceeded"}


def test_error_after_ends_the_stream_with_an_error_line_under_200(fresh: MockServer) -> None:
    answer = chat(fresh, messages=user("a few words here"), headers={"x-mock-fault": "error_after=2"})
    assert answer.status == 200
    lines = ndjson(answer)
    assert len(lines) == 3
    assert [line["message"]["content"] for line in lines[:2]] == ["Echo:", " a"]
    assert lines[2] == {"error": "an error was encountered while running the model: unexpected EOF"}


def test_cut_after_drops_the_connection_mid_stream(fresh: MockServer) -> None:
    parts = urlsplit(fresh.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", "/fault/cut_after=2/ollama/api/chat",
                       body=json.dumps({"model": MODEL, "messages": user("a few words here")}),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    received = caught.value.partial.decode().splitlines()
    assert [json.loads(line)["message"]["content"] for line in received] == ["Echo:", " a"]
    connection.close()


# -- embeddings and models -------------------------------------------------------------------------------------


def test_embed(mock: MockServer) -> None:
    answer = post_json(mock.url + "/ollama/api/embed", {"model": "nomic-embed-text", "input": ["hello", "world!"]})
    body = answer.json
    assert set(body) == {"model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"}
    assert [len(v) for v in body["embeddings"]] == [768, 768]
    assert abs(sum(x * x for x in body["embeddings"][0]) - 1) < 1e-4
    assert body["prompt_eval_count"] == 2 + 2
    single = post_json(mock.url + "/ollama/api/embed", {"model": "all-minilm", "input": "hello", "dimensions": 64})
    assert [len(v) for v in single.json["embeddings"]] == [64]
    missing = post_json(mock.url + "/ollama/api/embed", {"model": "no-such-embedder", "input": "x"})
    assert missing.status == 404 and "not found, try pulling it first" in missing.json["error"]


def test_tags_list_the_local_models(mock: MockServer) -> None:
    answer = raw_request(mock.url + "/ollama/api/tags")
    models = answer.json["models"]
    assert [m["name"] for m in models][:2] == ["llama3.1:8b", "qwen2.5:7b"]
    first = models[0]
    assert set(first) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert len(first["digest"]) == 64 and first["details"]["format"] == "gguf"
    assert raw_request(mock.url + "/ollama/api/tags").json == answer.json  # stable
