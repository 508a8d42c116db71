"""Decoding and checking an OpenAI Chat Completions request into the brain's ``Ask``.

The checks are the ones real OpenAI makes and a gateway can get wrong: unknown parameters,
missing fields, tool messages that answer no tool call (or tool calls left unanswered),
``tool_choice`` without tools, ``max_tokens`` on reasoning models, json_object mode without the
word "json" in the messages. Each failure is a 400 with OpenAI's message, ``param`` and ``code``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn
from byway.mock.media import image_from_url
from byway.mock.problem import Problem, bad_request

KNOWN_PARAMS = frozenset({
    "model", "messages", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort",
    "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options",
    "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
_ROLES = ("system", "developer", "user", "assistant", "tool")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_REASONING_PREFIXES = ("o1", "o3", "o4")
_NO_SYSTEM_PREFIXES = ("o1-mini", "o1-preview")  # early reasoning models refuse system/developer messages


@dataclass(slots=True)
class ChatRequest:
    ask: Ask
    stream: bool
    include_usage: bool
    obfuscate: bool  # stream chunks carry OpenAI's random-length "obfuscation" padding
    n: int


def decode_json(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise bad_request("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                          "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                          "sent was not valid JSON.)") from None


def is_reasoning_model(model: str) -> bool:
    return model.startswith(_REASONING_PREFIXES) or model.startswith("gpt-5")


def decode_chat(raw: bytes, *, model: str | None = None) -> ChatRequest:
    """The checked request; ``model`` overrides the body's (Azure takes it from the path)."""
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise bad_request("Invalid type for request body: expected an object.")
    for key in body:
        if key not in KNOWN_PARAMS:
            raise bad_request(f"Unrecognized request argument supplied: {key}", code="unknown_parameter")
    model = model or body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("you must provide a model parameter")
    turns = _messages(body.get("messages"))
    if model.startswith(_NO_SYSTEM_PREFIXES):
        _refuse_system_roles(body["messages"])
    tools = _tools(body.get("tools"))
    choice, forced = _tool_choice(body.get("tool_choice"), tools, "tool_choice" in body)
    stream = body.get("stream") is True
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                          param="stream_options", code="invalid_value")
    json_mode, schema = _response_format(body.get("response_format"), turns)
    ask = Ask(model=model, turns=turns, tools=tools, tool_choice=choice, forced_tool=forced,
              parallel=body.get("parallel_tool_calls", True) is not False, json_mode=json_mode, json_schema=schema,
              stop=_stop(body.get("stop")), max_tokens=_max_tokens(body, model),
              reasoning=is_reasoning_model(model))
    n = body.get("n", 1)
    if n is None:
        n = 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
        raise bad_request(f"Invalid 'n': expected an integer between 1 and 128, got {n!r}.", param="n",
                          code="invalid_value")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    obfuscate = not (isinstance(options, dict) and options.get("include_obfuscation") is False)
    return ChatRequest(ask=ask, stream=stream, include_usage=include_usage, obfuscate=obfuscate, n=n)


def _messages(value: Any) -> list[Turn]:
    if value is None:
        raise bad_request("Missing required parameter: 'messages'.", param="messages",
                          code="missing_required_parameter")
    if not isinstance(value, list) or not value:
        raise bad_request("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
                          "empty array instead.", param="messages", code="empty_array")
    turns = [_message(m, i) for i, m in enumerate(value)]
    _check_tool_pairing(turns)
    return turns


def _refuse_system_roles(messages: list[Any]) -> None:
    for i, msg in enumerate(messages):
        if msg.get("role") in ("system", "developer"):
            raise bad_request(f"Unsupported value: 'messages[{i}].role' does not support '{msg['role']}' with this "
                              "model.", param=f"messages[{i}].role", code="unsupported_value")


def _message(msg: Any, i: int) -> Turn:
    where = f"messages[{i}]"
    if not isinstance(msg, dict):
        raise bad_request(f"Invalid type for '{where}': expected an object.", param=where, code="invalid_type")
    role = msg.get("role")
    if role not in _ROLES:
        raise bad_request(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                          "'function', 'tool', and 'developer'.", param=f"{where}.role", code="invalid_value")
    content = msg.get("content")
    if role == "tool":
        call_id = msg.get("tool_call_id")
        if not isinstance(call_id, str):
            raise bad_request(f"Missing required parameter: '{where}.tool_call_id'.", param=f"{where}.tool_call_id",
                              code="missing_required_parameter")
        text = " ".join(p for p in _content(content, where) if isinstance(p, str))
        return Turn(role="tool", tool_results=[ToolResult(call_id=call_id, content=text)])
    if role == "assistant":
        return Turn(role="assistant", content=_content(content, where) if content is not None else [],
                    tool_calls=_tool_calls(msg.get("tool_calls"), where))
    if content is None:
        raise bad_request(f"Missing required parameter: '{where}.content'.", param=f"{where}.content",
                          code="missing_required_parameter")
    return Turn(role="system" if role == "developer" else role, content=_content(content, where))


def _content(content: Any, where: str) -> list[str | Image]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise bad_request(f"Invalid type for '{where}.content': expected one of a string or array of objects.",
                          param=f"{where}.content", code="invalid_type")
    parts: list[str | Image] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        here = f"{where}.content[{j}]"
        if kind in ("text", "refusal"):
            text = part.get(kind)
            if not isinstance(text, str):
                raise bad_request(f"Missing required parameter: '{here}.{kind}'.", param=f"{here}.{kind}",
                                  code="missing_required_parameter")
            parts.append(text)
        elif kind == "image_url":
            spec = part.get("image_url")
            url = spec.get("url") if isinstance(spec, dict) else None
            image = image_from_url(url) if isinstance(url, str) else None
            if image is None:
                raise bad_request(f"Invalid '{here}.image_url.url'. Expected a base64-encoded data URL with an "
                                  "image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), or an "
                                  "http(s) URL.", param=f"{here}.image_url.url", code="invalid_value")
            parts.append(image)
        elif kind == "input_audio":
            parts.append(f"[audio {(part.get('input_audio') or {}).get('format', 'unknown')}]")
        elif kind == "file":
            parts.append(f"[file {(part.get('file') or {}).get('filename', 'unnamed')}]")
        else:
            raise bad_request(f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', "
                              "'input_audio', 'refusal', and 'file'.", param=f"{here}.type", code="invalid_value")
    return parts


def _tool_calls(value: Any, where: str) -> list[ToolCall]:
    if value is None:
        return []
    calls = []
    for j, call in enumerate(value if isinstance(value, list) else []):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(call.get("id"), str) or not isinstance(fn.get("name"), str):
            raise bad_request(f"Missing required parameter: '{where}.tool_calls[{j}].function'.",
                              param=f"{where}.tool_calls[{j}]", code="missing_required_parameter")
        args = fn.get("arguments", "")
        calls.append(ToolCall(id=call["id"], name=fn["name"], arguments=args if isinstance(args, str) else ""))
    return calls


def _check_tool_pairing(turns: list[Turn]) -> None:
    answerable: set[str] = set()
    pending: list[str] = []
    for i, turn in enumerate(turns):
        if turn.role == "tool":
            call_id = turn.tool_results[0].call_id
            if call_id not in answerable:
                raise bad_request("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                                  "message with 'tool_calls'.", param=f"messages.[{i}].role")
            if call_id in pending:
                pending.remove(call_id)
            continue
        if pending:
            raise _unanswered(pending, i)
        answerable = {call.id for call in turn.tool_calls}
        pending = [call.id for call in turn.tool_calls]
    if pending:
        raise _unanswered(pending, len(turns))


def _unanswered(ids: list[str], i: int) -> Problem:
    return bad_request("An assistant message with 'tool_calls' must be followed by tool messages responding to "
                       "each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                       + ", ".join(ids), param=f"messages.[{i}].role")


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        raise bad_request("Invalid 'tools': empty array. Expected an array with minimum length 1, but got an "
                          "empty array instead.", param="tools", code="empty_array")
    tools = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            continue  # custom and built-in tools are accepted but never called
        fn = tool.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str):
            raise bad_request(f"Missing required parameter: 'tools[{i}].function.name'.",
                              param=f"tools[{i}].function.name", code="missing_required_parameter")
        if not _TOOL_NAME.match(name):
            raise bad_request(f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a "
                              "string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                              param=f"tools[{i}].function.name", code="invalid_value")
        params = fn.get("parameters")
        tools.append(Tool(name=name, description=fn.get("description") or "",
                          schema=params if isinstance(params, dict) else {"type": "object", "properties": {}}))
    return tools


def _tool_choice(value: Any, tools: list[Tool], given: bool) -> tuple[str, str | None]:
    if not given or value is None:
        return "auto", None
    if not tools:
        raise bad_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                          "specified.", param="tool_choice")
    if value in ("none", "auto", "required"):
        return value, None
    fn = value.get("function") if isinstance(value, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(name, str):
        raise bad_request("Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a named "
                          "function.", param="tool_choice", code="invalid_value")
    if all(t.name != name for t in tools):
        raise bad_request(f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.",
                          param="tool_choice", code="invalid_value")
    return "forced", name


def _response_format(value: Any, turns: list[Turn]) -> tuple[bool, dict[str, Any] | None]:
    if value is None:
        return False, None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return False, None
    if kind == "json_object":
        if not any("json" in p.lower() for t in turns for p in t.content if isinstance(p, str)):
            raise bad_request("'messages' must contain the word 'json' in some form, to use 'response_format' of "
                              "type 'json_object'.", param="messages", code=None)
        return True, None
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise bad_request("Missing required parameter: 'response_format.json_schema.name'.",
                              param="response_format.json_schema.name", code="missing_required_parameter")
        schema = spec.get("schema")
        return True, schema if isinstance(schema, dict) else {}
    raise bad_request(f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
                      param="response_format.type", code="invalid_value")


def _stop(value: Any) -> list[str]:
    if value is None:
        return []
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or len(stops) > 4 or not all(isinstance(s, str) for s in stops):
        raise bad_request("Invalid 'stop': expected a string or an array of at most 4 strings.", param="stop",
                          code="invalid_value")
    return stops


def _max_tokens(body: dict[str, Any], model: str) -> int | None:
    if body.get("max_tokens") is not None and is_reasoning_model(model):
        raise bad_request("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                          "'max_completion_tokens' instead.", param="max_tokens", code="unsupported_parameter")
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise bad_request(f"Invalid '{key}': integer below minimum value. Expected a value >= 1, but got "
                              f"{value!r} instead.", param=key, code="integer_below_min_value")
        return value
    return None
