"""The Gemini mock's refusals and faults, in Google's error envelope, seen over plain HTTP."""

from __future__ import annotations

import http.client
import time
from typing import Any

import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

KEY = {"x-goog-api-key": "AIza-test"}
HI = [{"role": "user", "parts": [{"text": "hi"}]}]


def generate(mock: MockServer, body: dict[str, Any], model: str = "gemini-2.0-flash", headers: dict | None = None,
             prefix: str = "", method: str = "generateContent"):
    return post_json(f"{mock.url}{prefix}/gemini/v1beta/models/{model}:{method}", body,
                     KEY if headers is None else headers)


def error_of(answer) -> dict[str, Any]:
    assert answer.headers["content-type"] == "application/json; charset=UTF-8"
    return answer.json["error"]


def test_bad_key_is_a_400_as_gemini_answers_it(mock: MockServer) -> None:
    answer = generate(mock, {"contents": HI}, headers={"x-goog-api-key": "bad-key"})
    assert answer.status == 400
    assert answer.json == {"error": {
        "code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                     "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
                    {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                     "message": "API key not valid. Please pass a valid API key."}]}}


def test_no_key(mock: MockServer) -> None:
    answer = generate(mock, {"contents": HI}, headers={})
    assert answer.status == 403 and error_of(answer)["status"] == "PERMISSION_DENIED"
    assert error_of(answer)["message"].startswith("Method doesn't allow unregistered callers")
    by_query = post_json(f"{mock.url}/gemini/v1beta/models/gemini-2.0-flash:generateContent?key=AIza", {"contents": HI})
    assert by_query.status == 200


def test_unknown_model_as_recorded(mock: MockServer) -> None:
    answer = generate(mock, {"contents": HI}, model="no-such-model")
    assert answer.status == 404
    assert error_of(answer) == {"code": 404, "status": "NOT_FOUND", "message": (
        "models/no-such-model is not found for API version v1beta, or is not supported for generateContent. Call "
        "ModelService.ListModels to see the list of available models and their supported methods.")}


@pytest.mark.parametrize(("body", "message"), [
    ({"contents": HI, "temprature": 1}, 'Invalid JSON payload received. Unknown name "temprature": Cannot find field.'),
    ({"contents": HI, "generationConfig": {"max_tokens": 5}},
     """Invalid JSON payload received. Unknown name "max_tokens" at 'generation_config': Cannot find field."""),
    ({"contents": []}, "* GenerateContentRequest.contents: contents is not specified"),
    ({"contents": [{"role": "user", "parts": []}]},
     "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty."),
    ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "Please use a valid role: user, model."),
    ({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "***"}}]}]},
     "Invalid value at 'contents[0].parts[0].inline_data.data' (TYPE_BYTES), Base64 decoding failed"),
    ({"contents": HI, "tools": [{"functionDeclarations": [{"name": "f", "parameters": {
        "type": "OBJECT", "properties": {}, "additionalProperties": False}}]}]},
     """Invalid JSON payload received. Unknown name "additionalProperties" at """
     """'tools[0].function_declarations[0].parameters': Cannot find field."""),
    ({"contents": HI, "tools": [{"functionDeclarations": [{"name": "f", "parameters": {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "OBJECT"}}]}]},
     """Invalid JSON payload received. Unknown name "$schema" at """
     """'tools[0].function_declarations[0].parameters': Cannot find field."""),
    ({"contents": HI, "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["f"]}}},
     "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names "
     "can only be set when the mode is ANY."),
])
def test_invalid_requests(mock: MockServer, body: dict[str, Any], message: str) -> None:
    answer = generate(mock, body)
    assert answer.status == 400
    assert error_of(answer) == {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}


def test_json_schema_parameters_take_any_keyword(mock: MockServer) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"q": {"type": "string"}}, "required": ["q"], "additionalProperties": False}
    answer = generate(mock, {"contents": HI, "tools": [{"functionDeclarations": [
        {"name": "search", "parameters_json_schema": schema}]}]})
    assert answer.status == 200
    part = answer.json["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "search", "args": {"q": "example"}}}
    assert answer.json["candidates"][0]["finishReason"] == "STOP"
    assert answer.json["candidates"][0]["finishMessage"] == "Model generated function call(s)."


def test_function_turn_checks(mock: MockServer) -> None:
    call = {"functionCall": {"name": "f", "args": {}}}
    response = {"functionResponse": {"name": "f", "response": {"output": "ok"}}}
    uneven = generate(mock, {"contents": [{"role": "user", "parts": [{"text": "q"}]},
                                          {"role": "model", "parts": [call, call]},
                                          {"role": "user", "parts": [response]}]})
    assert uneven.status == 400 and error_of(uneven)["message"] == (
        "Please ensure that the number of function response parts is equal to the number of function call parts of "
        "the function call turn.")
    first = generate(mock, {"contents": [{"role": "model", "parts": [call]}, {"role": "user", "parts": [response]}]})
    assert first.status == 400 and "function call turn comes immediately after a user turn" in error_of(first)["message"]
    unsigned = generate(mock, {"contents": [{"role": "user", "parts": [{"text": "q"}]},
                                            {"role": "model", "parts": [call]}, {"role": "user", "parts": [response]}]},
                        model="gemini-3-pro-preview")
    assert unsigned.status == 400 and error_of(unsigned)["message"].startswith(
        "Function call is missing a thought_signature in functionCall parts.")
    signed = dict(call, thoughtSignature="Y29udGV4dF9lbmdpbmVlcmluZ19pc190aGVfd2F5X3RvX2dv")
    ok = generate(mock, {"contents": [{"role": "user", "parts": [{"text": "q"}]},
                                      {"role": "model", "parts": [signed, call]},
                                      {"role": "user", "parts": [response, response]}]}, model="gemini-3-pro-preview")
    assert ok.status == 200
    [part] = ok.json["candidates"][0]["content"]["parts"]
    assert part["text"] == "Tool results: f: ok; f: ok" and part["thoughtSignature"]  # Gemini 3 signs its text


def test_malformed_json_and_wrong_method(mock: MockServer) -> None:
    broken = raw_request(mock.url + "/gemini/v1beta/models/gemini-2.0-flash:generateContent", b"{nope",
                         {"Content-Type": "application/json", **KEY})
    assert broken.status == 400 and error_of(broken)["status"] == "INVALID_ARGUMENT"
    unknown = raw_request(mock.url + "/gemini/v1beta/models/gemini-2.0-flash:doMagic", b"{}", KEY, method="POST")
    assert unknown.status == 405 and error_of(unknown)["code"] == 405


def test_status_faults_in_googles_shape(fresh: MockServer) -> None:
    limited = generate(fresh, {"contents": HI}, prefix="/fault/status=429,retry_after=3")
    assert limited.status == 429 and limited.headers["retry-after"] == "3"
    error = error_of(limited)
    assert (error["code"], error["status"], error["message"]) == (429, "RESOURCE_EXHAUSTED",
                                                                  "Resource has been exhausted (e.g. check quota).")
    assert error["details"][-1] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}
    once = "status=500,times=1"
    assert generate(fresh, {"contents": HI}, prefix=f"/fault/{once}").status == 500
    assert generate(fresh, {"contents": HI}, prefix=f"/fault/{once}").status == 200
    assert error_of(generate(fresh, {"contents": HI}, prefix="/fault/status=504"))["status"] == "DEADLINE_EXCEEDED"


def test_stream_faults(fresh: MockServer) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "one two three four"}]}]}
    whole = generate(fresh, body, method="streamGenerateContent?alt=sse")
    assert whole.text.count("data: ") == 5
    with pytest.raises((http.client.HTTPException, OSError)):  # the connection drops mid-body
        generate(fresh, body, method="streamGenerateContent?alt=sse", prefix="/fault/cut_after=2")
    started = time.perf_counter()
    slow = generate(fresh, body, method="streamGenerateContent?alt=sse", prefix="/fault/stall_ms=60")
    assert slow.status == 200 and slow.text.count("data: ") == 5
    assert time.perf_counter() - started >= 4 * 0.06


def test_stream_without_sse_is_one_json_array(mock: MockServer) -> None:
    answer = generate(mock, {"contents": [{"role": "user", "parts": [{"text": "a b"}]}]},
                      method="streamGenerateContent")
    assert answer.status == 200 and isinstance(answer.json, list)
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in answer.json] == ["Echo:", " a", " b"]
