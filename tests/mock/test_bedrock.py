"""The Bedrock mock, driven by boto3 exactly as an application would drive the real service."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
import urllib3
from botocore.config import Config
from botocore.eventstream import EventStreamBuffer

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

NOVA = "us.amazon.nova-micro-v1:0"
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)
WEATHER = {"toolSpec": {"name": "get_weather", "description": "Current weather", "inputSchema": {"json": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"]}}}}
NO_RETRIES = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10)


def runtime(server: MockServer, prefix: str = "", key: str = "AKIDMOCKTEST", **kw: Any) -> Any:
    return boto3.client("bedrock-runtime", endpoint_url=server.url + prefix + "/bedrock", region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key="mock-secret", config=NO_RETRIES, **kw)


@pytest.fixture
def brt(mock: MockServer) -> Any:
    return runtime(mock)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def collect(stream: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(stream)


# -- converse ----------------------------------------------------------------------------------------------------


def test_converse_text(brt: Any) -> None:
    answer = brt.converse(modelId=NOVA, messages=[user("Hello there")], system=[{"text": "Be brief."}])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ResponseMetadata"]["RequestId"].startswith("req_")
    assert answer["output"]["message"] == {"role": "assistant", "content": [{"text": "Echo: Hello there"}]}
    assert answer["stopReason"] == "end_turn"
    # 3 + system (4 + 3) + user (4 + 3) prompt tokens, "Echo: Hello there" is 5
    assert answer["usage"] == {"inputTokens": 17, "outputTokens": 5, "totalTokens": 22}
    assert answer["metrics"]["latencyMs"] >= 0


def test_converse_stream_events(brt: Any) -> None:
    answer = brt.converse_stream(modelId=NOVA, messages=[user("Hello there")])
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/vnd.amazon.eventstream"
    events = collect(answer["stream"])
    assert [next(iter(e)) for e in events] == ["messageStart", "contentBlockDelta", "contentBlockDelta",
                                               "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events[1:4]) == "Echo: Hello there"
    assert {e["contentBlockDelta"]["contentBlockIndex"] for e in events[1:4]} == {0}
    assert events[5]["messageStop"]["stopReason"] == "end_turn"
    assert events[6]["metadata"]["usage"] == {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}


def test_stream_events_carry_padding(mock: MockServer) -> None:
    status, headers, body = signed_post(mock, f"/bedrock/model/{NOVA}/converse-stream", {"messages": [user("Hi")]})
    assert status == 200 and headers["content-type"] == "application/vnd.amazon.eventstream"
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    payloads = [(m.headers[":event-type"], json.loads(m.payload)) for m in buffer]
    assert [kind for kind, _ in payloads] == ["messageStart", "contentBlockDelta", "contentBlockDelta",
                                              "contentBlockStop", "messageStop", "metadata"]
    pads = [p["p"] for _, p in payloads]
    assert all(pad and "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".startswith(pad) for pad in pads)
    assert len({len(pad) for pad in pads}) > 3  # lengths vary, as Bedrock's do


def test_tool_use_with_parsed_input(brt: Any) -> None:
    answer = brt.converse(modelId=CLAUDE, messages=[user("What is the weather in Lisbon?")],
                          toolConfig={"tools": [WEATHER], "toolChoice": {"auto": {}}})
    assert answer["stopReason"] == "tool_use"
    (block,) = answer["output"]["message"]["content"]
    use = block["toolUse"]
    assert use["name"] == "get_weather" and use["input"] == {"city": "Lisbon", "days": 1}
    assert use["toolUseId"].startswith("tooluse_") and len(use["toolUseId"]) == 30


def test_tool_use_streamed_in_fragments(brt: Any) -> None:
    events = collect(brt.converse_stream(modelId=CLAUDE, messages=[user("Weather in Oslo?")],
                                         toolConfig={"tools": [WEATHER], "toolChoice": {"any": {}}})["stream"])
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    fragments = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == {"city": "Oslo", "days": 1}
    assert next(e for e in events if "messageStop" in e)["messageStop"]["stopReason"] == "tool_use"


def test_tool_result_round_trip(brt: Any) -> None:
    first = brt.converse(modelId=CLAUDE, messages=[user("Weather in Rome?")], toolConfig={"tools": [WEATHER]})
    call = first["output"]["message"]
    use_id = call["content"][0]["toolUse"]["toolUseId"]
    result = {"role": "user", "content": [{"toolResult": {"toolUseId": use_id, "content": [
        {"text": "Sunny, 24C"}, {"json": {"wind": "calm"}}], "status": "success"}}]}
    second = brt.converse(modelId=CLAUDE, messages=[user("Weather in Rome?"), call, result],
                          toolConfig={"tools": [WEATHER]})
    assert second["stopReason"] == "end_turn"
    assert second["output"]["message"]["content"] == [{"text": 'Tool results: get_weather: Sunny, 24C {"wind":"calm"}'}]


def test_image_bytes(brt: Any) -> None:
    answer = brt.converse(modelId=NOVA, messages=[{"role": "user", "content": [
        {"text": "What is this?"}, {"image": {"format": "png", "source": {"bytes": PNG}}}]}])
    assert answer["output"]["message"]["content"][0]["text"] == "Echo: What is this? [image image/png 68 bytes]"
    assert answer["usage"]["inputTokens"] == 3 + 4 + 4 + 85


def test_structured_output_answers_a_sample_of_the_schema(brt: Any) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
              "required": ["city", "country"]}
    answer = brt.converse(modelId="zai.glm-4.7-flash", messages=[user("Where is the Eiffel Tower?")],
                          outputConfig={"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
                              "name": "City", "schema": json.dumps(schema)}}}})
    assert json.loads(answer["output"]["message"]["content"][0]["text"]) == {"city": "Paris", "country": "Paris"}


def test_thinking_returns_reasoning_content(brt: Any) -> None:
    answer = brt.converse(modelId=CLAUDE, messages=[user("Why is the sky blue?")],
                          additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}})
    reasoning, text = answer["output"]["message"]["content"]
    assert reasoning["reasoningContent"]["reasoningText"]["text"] == "Considering: Why is the sky blue?"
    assert reasoning["reasoningContent"]["reasoningText"]["signature"]
    assert text == {"text": "Echo: Why is the sky blue?"}


def test_max_tokens_and_stop_sequences(brt: Any) -> None:
    cut = brt.converse(modelId=NOVA, messages=[user("one two three four five six")], inferenceConfig={"maxTokens": 2})
    assert (cut["stopReason"], cut["output"]["message"]["content"][0]["text"]) == ("max_tokens", "Echo: on")
    stopped = brt.converse(modelId=NOVA, messages=[user("alpha STOP beta")],
                           inferenceConfig={"stopSequences": ["STOP"], "temperature": 0.2, "topP": 0.9})
    assert (stopped["stopReason"], stopped["output"]["message"]["content"][0]["text"]) == (
        "stop_sequence", "Echo: alpha ")


def test_claude_names_the_stop_sequence_when_asked(brt: Any) -> None:
    answer = brt.converse(modelId=CLAUDE, messages=[user("alpha STOP beta")],
                          inferenceConfig={"stopSequences": ["STOP"]}, additionalModelResponseFieldPaths=["/stop_sequence"])
    assert answer["additionalModelResponseFields"] == {"stop_sequence": "STOP"}
    events = collect(brt.converse_stream(modelId=CLAUDE, messages=[user("alpha beta")],
                                         inferenceConfig={"stopSequences": ["STOP"]},
                                         additionalModelResponseFieldPaths=["/stop_sequence"])["stream"])
    stop = next(e["messageStop"] for e in events if "messageStop" in e)
    assert stop == {"stopReason": "end_turn", "additionalModelResponseFields": {"stop_sequence": None}}


def test_cache_point_reports_cache_tokens(brt: Any) -> None:
    long_text = "word " * 1200  # 6000 characters: 1500 tokens
    answer = brt.converse(modelId=CLAUDE, messages=[{"role": "user", "content": [
        {"text": long_text}, {"cachePoint": {"type": "default"}}, {"text": "Summarise."}]}])
    usage = answer["usage"]
    prompt = 3 + 4 + (6000 + 10 + 3) // 4
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (1024, (prompt - 1024) // 2)
    assert usage["inputTokens"] + usage["cacheReadInputTokens"] + usage["cacheWriteInputTokens"] == prompt
    assert usage["totalTokens"] == prompt + usage["outputTokens"]


def test_arn_model_ids_route(brt: Any) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    answer = brt.converse(modelId=arn, messages=[user("ping")])
    assert answer["output"]["message"]["content"] == [{"text": "Echo: ping"}]


# -- errors, as boto3 raises them ----------------------------------------------------------------------------------


def test_unknown_model_is_a_validation_exception(brt: Any) -> None:
    for model in ("no-such-model-v1:0", "us.no-such-model-v1:0"):
        with pytest.raises(brt.exceptions.ValidationException) as raised:
            brt.converse(modelId=model, messages=[user("hi")])
        error = raised.value.response
        assert error["Error"] == {"Message": "The provided model identifier is invalid.", "Code": "ValidationException"}
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bad_access_key_is_unrecognized_client(mock: MockServer) -> None:
    client = runtime(mock, key="badAKID")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client.converse(modelId=NOVA, messages=[user("hi")])
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_invalid_requests_are_validation_exceptions(brt: Any) -> None:
    cases = [
        ([user("a"), user("b")], {}, "must alternate between user and assistant"),
        ([{"role": "user", "content": [{"text": ""}]}], {}, "is blank"),
        ([user("x"), {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
          {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}]}}]}], {},
         "toolConfig field must be defined"),
        ([user("x")], {"inferenceConfig": {"temperature": 1.5}}, "less than or equal to 1"),
        ([user("x")], {"toolConfig": {"tools": [WEATHER], "toolChoice": {"tool": {"name": "nope"}}}},
         "not among toolConfig.tools"),
        ([user("x")], {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 100}}},
         "greater than or equal to 1024"),
    ]
    for messages, extra, fragment in cases:
        with pytest.raises(brt.exceptions.ValidationException, match=fragment):
            brt.converse(modelId=CLAUDE, messages=messages, **extra)


def test_status_faults_in_bedrock_shape(fresh: MockServer) -> None:
    cases = [("status=429", "ThrottlingException"), ("status=500", "InternalServerException"),
             ("status=503", "ServiceUnavailableException"), ("status=408", "ModelTimeoutException"),
             ("status=400", "ValidationException"), ("status=403", "AccessDeniedException")]
    for spec, code in cases:
        client = runtime(fresh, prefix=f"/fault/{spec}")
        exception = getattr(client.exceptions, code)
        with pytest.raises(exception) as raised:
            client.converse(modelId=NOVA, messages=[user("hi")])
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == int(spec.split("=")[1])
    throttled = raw_request(fresh.url + f"/fault/status=429,retry_after=2/bedrock/model/{NOVA}/converse",
                            b'{"messages": []}', {"Content-Type": "application/json"})
    assert throttled.status == 429
    assert throttled.headers["x-amzn-errortype"].startswith("ThrottlingException:")
    assert throttled.headers["retry-after"] == "2"
    assert throttled.json == {"message": "Too many requests, please wait before trying again."}


def test_status_fault_on_the_stream_raises_before_any_event(fresh: MockServer) -> None:
    client = runtime(fresh, prefix="/fault/status=429")
    with pytest.raises(client.exceptions.ThrottlingException):
        client.converse_stream(modelId=NOVA, messages=[user("hi")])


def test_cut_stream_breaks_the_event_iteration(fresh: MockServer) -> None:
    client = runtime(fresh, prefix="/fault/cut_after=2")
    answer = client.converse_stream(modelId=NOVA, messages=[user("one two three four")])
    received = []
    with pytest.raises(urllib3.exceptions.ProtocolError, match="ended prematurely"):
        for event in answer["stream"]:
            received.append(event)
    assert [next(iter(e)) for e in received] == ["messageStart", "contentBlockDelta"]


def test_stalled_stream_pauses_between_events(fresh: MockServer) -> None:
    client = runtime(fresh, prefix="/fault/stall_ms=60")
    started = time.perf_counter()
    events = collect(client.converse_stream(modelId=NOVA, messages=[user("Hi")])["stream"])
    assert len(events) == 6
    assert time.perf_counter() - started >= 5 * 0.06


# -- embeddings and the model list ---------------------------------------------------------------------------------


def test_titan_embeddings(brt: Any) -> None:
    answer = brt.invoke_model(modelId="amazon.titan-embed-text-v2:0",
                              body=json.dumps({"inputText": "hello world", "dimensions": 256}))
    body = json.loads(answer["body"].read())
    assert len(body["embedding"]) == 256 and body["inputTextTokenCount"] == 3
    assert abs(sum(x * x for x in body["embedding"]) - 1) < 1e-4
    assert body["embeddingsByType"]["float"] == body["embedding"]
    again = json.loads(brt.invoke_model(modelId="amazon.titan-embed-text-v2:0",
                                        body=json.dumps({"inputText": "hello world", "dimensions": 256}))["body"].read())
    assert again["embedding"] == body["embedding"]
    default = json.loads(brt.invoke_model(modelId="amazon.titan-embed-text-v2:0",
                                          body=json.dumps({"inputText": "x"}))["body"].read())
    assert len(default["embedding"]) == 1024
    with pytest.raises(brt.exceptions.ValidationException, match="not a valid enum value"):
        brt.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "x", "dimensions": 7}))


def test_cohere_embeddings(brt: Any) -> None:
    answer = brt.invoke_model(modelId="cohere.embed-english-v3", body=json.dumps({
        "texts": ["first text", "second"], "input_type": "search_document", "embedding_types": ["float"]}))
    body = json.loads(answer["body"].read())
    assert body["response_type"] == "embeddings_by_type"
    assert [len(v) for v in body["embeddings"]["float"]] == [1024, 1024]
    assert body["texts"] == ["first text", "second"]
    plain = json.loads(brt.invoke_model(modelId="cohere.embed-english-v3", body=json.dumps({
        "texts": ["first text"], "input_type": "search_query"}))["body"].read())
    assert plain["response_type"] == "embeddings_floats" and len(plain["embeddings"]) == 1
    with pytest.raises(brt.exceptions.ValidationException, match="input_type"):
        brt.invoke_model(modelId="cohere.embed-english-v3", body=json.dumps({"texts": ["x"]}))


def test_foundation_models(mock: MockServer) -> None:
    control = boto3.client("bedrock", endpoint_url=mock.url + "/bedrock", region_name="us-east-1",
                           aws_access_key_id="AKIDMOCKTEST", aws_secret_access_key="s", config=NO_RETRIES)
    listing = control.list_foundation_models()["modelSummaries"]
    assert "amazon.nova-micro-v1:0" in [m["modelId"] for m in listing]
    embedding = control.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    assert [m["modelId"] for m in embedding] == ["amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"]
    assert [m["modelId"] for m in control.list_foundation_models(byProvider="meta")["modelSummaries"]] == [
        "meta.llama3-1-8b-instruct-v1:0"]


# -- auth, checked on raw requests ---------------------------------------------------------------------------------


def signed_post(server: MockServer, path: str, payload: Any) -> tuple[int, dict[str, str], bytes]:
    """A raw POST with a well-formed SigV4 header (the mock checks its form, not the signature); the answer's
    status, headers and undecoded body."""
    headers = {"Content-Type": "application/json", "X-Amz-Date": "20250101T000000Z",
               "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDRAW/20250101/us-east-1/bedrock/aws4_request, "
                                "SignedHeaders=content-type;host;x-amz-date, Signature=" + "ab" * 32}
    request = urllib.request.Request(server.url + path, data=json.dumps(payload).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


@pytest.mark.parametrize(("authorization", "code"), [
    ("", "MissingAuthenticationTokenException"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request", "IncompleteSignatureException"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=" + "0" * 64, "InvalidSignatureException"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20250102/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, "
     "Signature=" + "0" * 64, "InvalidSignatureException"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, "
     "Signature=" + "0" * 64, "IncompleteSignatureException"),
    ("Bearer bad-key", "UnrecognizedClientException"),
])
def test_malformed_credentials(mock: MockServer, authorization: str, code: str) -> None:
    headers = {"X-Amz-Date": "20250101T000000Z", "Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    answer = raw_request(mock.url + f"/bedrock/model/{NOVA}/converse", json.dumps({"messages": [user("x")]}).encode(),
                         headers)
    assert answer.status == 403
    assert answer.headers["x-amzn-errortype"].split(":")[0] == code
    assert answer.json["message"]


def test_bedrock_api_key_as_bearer(mock: MockServer) -> None:
    answer = post_json(mock.url + f"/bedrock/model/{NOVA}/converse", {"messages": [user("hi")]},
                       {"Authorization": "Bearer ABSKbW9ja2tleQ=="})
    assert answer.status == 200 and answer.json["output"]["message"]["content"] == [{"text": "Echo: hi"}]


def test_image_as_base64_over_the_wire(mock: MockServer) -> None:
    status, _, body = signed_post(mock, f"/bedrock/model/{NOVA}/converse", {"messages": [{"role": "user", "content": [
        {"image": {"format": "jpeg", "source": {"bytes": base64.b64encode(b"\xff\xd8" + bytes(30)).decode()}}}]}]})
    assert status == 200
    assert json.loads(body)["output"]["message"]["content"][0]["text"] == "Echo: [image image/jpeg 32 bytes]"


def test_unknown_route_answers_in_bedrock_shape(mock: MockServer) -> None:
    answer = raw_request(mock.url + "/bedrock/model/amazon.nova-micro-v1:0/nonsense", b"{}",
                         {"Content-Type": "application/json"})
    assert answer.status == 404
    assert answer.headers["x-amzn-errortype"].startswith("ResourceNotFoundException:")
    assert answer.headers["x-amzn-requestid"].startswith("req_")
    assert "Invalid URL" in answer.json["message"]
