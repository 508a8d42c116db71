"""Decoding an OpenAI Chat Completions request body into the canonical ``ChatRequest``."""

from __future__ import annotations

from typing import Any

import msgspec

from byway.api import _openai_wire as w
from byway.api._openai_images import image_part
from byway.api._openai_invalid import invalid_from_validation, malformed_json
from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

_UNKNOWN_FIELD = "Object contains unknown field `"


def decode_request(body: bytes) -> ChatRequest:
    """The canonical request for an OpenAI Chat Completions body; any problem is an ``InvalidRequestError``
    whose ``param`` is the JSON path of the offending field."""
    wire, extra = _decode(body)
    return _to_canonical(wire, extra)


def _decode(body: bytes) -> tuple[w.WireRequest, dict[str, Any] | None]:
    try:
        try:
            return w.request_decoder.decode(body), None
        except msgspec.ValidationError as exc:
            if not str(exc).startswith(_UNKNOWN_FIELD) or " - at `" in str(exc):
                raise
        # Fields we do not model: decode the rest as usual, keep these as they are.
        wire = w.lenient_request_decoder.decode(body)
        fields = w.top_level_decoder.decode(body)
        return wire, {k: w.any_decoder.decode(v) for k, v in fields.items() if k not in w.KNOWN_FIELDS}
    except msgspec.ValidationError as exc:
        raise invalid_from_validation(exc) from None
    except msgspec.DecodeError as exc:
        raise malformed_json(exc) from None
    except UnicodeDecodeError:
        raise InvalidRequestError("We could not parse the JSON body of your request: it is not valid UTF-8.",
                                  param=None) from None
    except RecursionError:
        raise InvalidRequestError("The JSON body is nested too deeply.", param=None) from None


def _to_canonical(wire: w.WireRequest, extra: dict[str, Any] | None) -> ChatRequest:
    if wire.n is not None and wire.n != 1:
        raise InvalidRequestError(
            f"Invalid value for 'n': {wire.n} is not supported; only one choice per request (n=1) is.", param="n"
        )
    request = ChatRequest(model=wire.model, messages=_messages(wire.messages), extra_family="openai")
    # Only fields that were given are set: a msgspec struct built from few keywords is several times faster.
    if wire.tools is not None or wire.functions is not None or wire.tool_choice is not None \
            or wire.function_call is not None:
        request.tools, request.tool_choice = _tools(wire)
    if wire.parallel_tool_calls is not None:
        request.parallel_tool_calls = wire.parallel_tool_calls
    if wire.response_format is not None:
        request.response_format = _response_format(wire.response_format)
    if wire.temperature is not None:
        request.temperature = wire.temperature
    if wire.top_p is not None:
        request.top_p = wire.top_p
    if wire.max_completion_tokens is not None:
        request.max_tokens = wire.max_completion_tokens
    elif wire.max_tokens is not None:
        request.max_tokens = wire.max_tokens
    if wire.stop is not None:
        request.stop = [wire.stop] if isinstance(wire.stop, str) else wire.stop
    if wire.seed is not None:
        request.seed = wire.seed
    if wire.user is not None:
        request.user = wire.user
    if wire.metadata is not None:
        request.metadata = wire.metadata
    if wire.stream:
        request.stream = True
    if wire.stream_options is not None and wire.stream_options.include_usage:
        request.include_usage = True
    if wire.reasoning_effort is not None:
        request.reasoning_effort = wire.reasoning_effort
    if extra:
        request.extra = extra
    return request


# -- messages --------------------------------------------------------------------------------------------------------

def _messages(wire_messages: list[w.WireMessage]) -> list[Message]:
    out: list[Message] = []
    legacy_ids: dict[str, str] = {}  # function name -> id given to its latest legacy function_call
    i = 0
    for m in wire_messages:
        kind = type(m)
        if kind is w.UserMessage:
            content = m.content
            parts = [TextPart(content)] if isinstance(content, str) else _user_parts(content, i)
            out.append(Message("user", parts, m.name))
        elif kind is w.SystemMessage:
            out.append(Message("system", _text_parts(m.content), m.name))
        elif kind is w.DeveloperMessage:
            out.append(Message("developer", _text_parts(m.content), m.name))
        elif kind is w.AssistantMessage:
            out.append(Message("assistant", _assistant_parts(m, i, legacy_ids), m.name))
        elif kind is w.ToolMessage:
            result = ToolResultPart(tool_call_id=m.tool_call_id, content=_text_parts(m.content), name=m.name)
            out.append(Message("tool", [result]))
        else:
            out.append(Message("tool", [_function_result(m, i, legacy_ids)]))
        i += 1
    return out


def _function_result(m: w.FunctionMessage, i: int, legacy_ids: dict[str, str]) -> ToolResultPart:
    call_id = legacy_ids.get(m.name)
    if call_id is None:
        raise InvalidRequestError(
            f"Invalid 'messages[{i}]': no earlier assistant function_call named '{m.name}' to answer.",
            param=f"messages[{i}].name",
        )
    return ToolResultPart(tool_call_id=call_id, content=[TextPart(m.content or "")], name=m.name)


def _text_parts(content: str | list[w.TextContent]) -> list[TextPart | ImagePart]:
    if isinstance(content, str):
        return [TextPart(content)]
    return [TextPart(p.text) for p in content]


def _user_parts(content: list[w.TextContent | w.ImageContent], i: int) -> list[Part]:
    parts: list[Part] = []
    for j, p in enumerate(content):
        if isinstance(p, w.TextContent):
            parts.append(TextPart(p.text))
        else:
            parts.append(image_part(p.image_url.url, p.image_url.detail, f"messages[{i}].content[{j}].image_url.url"))
    return parts


def _assistant_parts(m: w.AssistantMessage, i: int, legacy_ids: dict[str, str]) -> list[Part]:
    parts: list[Part] = []
    if m.reasoning_content:
        parts.append(ThinkingPart(text=m.reasoning_content))
    calls = m.tool_calls or ()
    content = m.content
    if isinstance(content, str):
        if content or not (calls or m.function_call):
            parts.append(TextPart(content))
    elif content:
        parts.extend(TextPart(p.text if isinstance(p, w.TextContent) else p.refusal) for p in content)
    elif m.refusal:
        parts.append(TextPart(m.refusal))
    parts.extend(ToolCallPart(id=c.id, name=c.function.name, arguments=c.function.arguments) for c in calls)
    if m.function_call is not None:
        call_id = f"call_legacy_{i}"
        legacy_ids[m.function_call.name] = call_id
        parts.append(ToolCallPart(id=call_id, name=m.function_call.name, arguments=m.function_call.arguments))
    return parts


# -- tools and output format -----------------------------------------------------------------------------------------

def _tool(f: w.FunctionDef) -> Tool:
    if f.parameters is None:
        return Tool(name=f.name, description=f.description, strict=f.strict)
    return Tool(name=f.name, description=f.description, parameters=f.parameters, strict=f.strict)


def _tools(wire: w.WireRequest) -> tuple[list[Tool] | None, ToolChoice | None]:
    if wire.functions is not None and wire.tools is not None:
        raise InvalidRequestError("Invalid 'functions': send either 'tools' or the legacy 'functions', not both.",
                                  param="functions")
    if wire.function_call is not None and wire.tool_choice is not None:
        raise InvalidRequestError(
            "Invalid 'function_call': send either 'tool_choice' or the legacy 'function_call', not both.",
            param="function_call",
        )
    if wire.functions is not None:
        tools: list[Tool] | None = [_tool(f) for f in wire.functions]
    elif wire.tools is not None:
        tools = [_tool(t.function) for t in wire.tools]
    else:
        tools = None
    choice = wire.tool_choice if wire.tool_choice is not None else wire.function_call
    if choice is None:
        return tools, None
    if isinstance(choice, str):
        return tools, ToolChoice(mode=choice)
    name = choice.function.name if isinstance(choice, w.FunctionChoice) else choice.name
    return tools, ToolChoice(mode="tool", name=name)


def _response_format(fmt: w.TextFormat | w.JsonObjectFormat | w.JsonSchemaFormat | None) -> ResponseFormat | None:
    if fmt is None:
        return None
    if isinstance(fmt, w.JsonSchemaFormat):
        spec = fmt.json_schema
        return ResponseFormat(type="json_schema", schema=spec.schema, name=spec.name, strict=spec.strict,
                              description=spec.description)
    return ResponseFormat(type="json_object" if isinstance(fmt, w.JsonObjectFormat) else "text")
