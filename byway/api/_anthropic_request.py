"""Decoding an Anthropic Messages request body into the canonical ``ChatRequest``.

Mapping choices:

- ``system`` (a string or text blocks) becomes leading ``system`` messages, one per block;
  a ``system`` turn inside the conversation becomes ``system`` messages where it stands.
- A user turn's ``tool_result`` blocks become ``tool`` messages (one per result, named after
  the ``tool_use`` they answer), followed by a ``user`` message with the turn's other blocks.
- ``tool_use`` input becomes the call's arguments as JSON text; ``thinking`` and
  ``redacted_thinking`` become ``ThinkingPart`` (the redacted data in ``signature``).
- ``tool_choice`` ``any`` is ``required``; ``disable_parallel_tool_use`` is
  ``parallel_tool_calls=False``; ``metadata.user_id`` is ``user``; ``stop_sequences`` is ``stop``.
- ``output_format`` / ``output_config.format`` (a JSON schema the answer must match) is the
  canonical ``response_format``: every provider honours it its own way (the Anthropic adapter
  through its JSON tool, which every Claude model accepts). The rest of ``output_config``
  (``effort``...) travels in ``extra``.
- ``top_k``, ``thinking``, ``service_tier`` and any field with no canonical place travel in
  ``extra`` (``extra_family="anthropic"``), which the Anthropic adapter sends on as they are.
- What the canonical model cannot hold (see ``_anthropic_native``) is kept verbatim in ``extra``
  for an Anthropic upstream; ``Decoded.anthropic_only`` says when that content matters to the
  answer, so the server refuses to send the request to other providers.
"""

from __future__ import annotations

import binascii

import msgspec

from byway.api import _anthropic_wire as w
from byway.api._anthropic_invalid import from_validation, invalid, malformed_json
from byway.api._anthropic_native import prune
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

_NOTHING: frozenset[str] = frozenset()
_CHOICE_MODES = {w.AutoChoice: "auto", w.AnyChoice: "required", w.NamedChoice: "tool", w.NoneChoice: "none"}
_encode = msgspec.json.encode


class Decoded:
    """A decoded request, and what in it only an Anthropic provider can be sent:
    ``(field path, description)`` pairs, empty for most requests."""

    __slots__ = ("anthropic_only", "request")

    def __init__(self, request: ChatRequest, anthropic_only: list[tuple[str, str]]) -> None:
        self.request = request
        self.anthropic_only = anthropic_only


def decode_request(body: bytes) -> ChatRequest:
    """The canonical request for a Messages body; any problem is an ``InvalidRequestError`` naming the field."""
    return decode(body).request


def decode(body: bytes) -> Decoded:
    try:
        wire = w.request_decoder.decode(body)
    except msgspec.ValidationError:
        return _decode_native(body)  # fields the structs do not know, or an invalid request: look closer
    except msgspec.DecodeError as exc:
        raise malformed_json(exc) from None
    except UnicodeDecodeError:
        raise _not_utf8() from None
    except RecursionError:
        raise _too_deep() from None
    request, keeps_more = _to_canonical(wire, _NOTHING)
    if keeps_more:
        # The Anthropic adapter's rendering would lose something the request says (a system turn inside the
        # conversation, a strict tool): decode it again keeping those sections as sent.
        return _decode_native(body)
    return Decoded(request, [])


def _decode_native(body: bytes) -> Decoded:
    try:
        value = w.any_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise malformed_json(exc) from None
    except UnicodeDecodeError:
        raise _not_utf8() from None
    except RecursionError:
        raise _too_deep() from None
    pruned, native = prune(value)
    try:
        wire = msgspec.convert(pruned, w.WireRequest)
    except msgspec.ValidationError as exc:
        raise from_validation(exc) from None
    except RecursionError:
        raise _too_deep() from None
    request, _ = _to_canonical(wire, native.skipped)
    if request.response_format is not None:
        # The adapter adds its JSON tool to the tools and forces it: a verbatim list would drop that tool.
        native.verbatim.pop("tools", None)
        native.verbatim.pop("tool_choice", None)
    if native.verbatim:
        request.extra = {**(request.extra or {}), **native.verbatim}
    return Decoded(request, native.reasons)


def _not_utf8() -> InvalidRequestError:
    return InvalidRequestError("There was an issue with the format of your request: the body is not valid UTF-8.",
                               param=None)


def _too_deep() -> InvalidRequestError:
    return InvalidRequestError("The JSON body is nested too deeply.", param=None)


def _to_canonical(wire: w.WireRequest, skipped: set[str] | frozenset[str]) -> tuple[ChatRequest, bool]:
    """The canonical request, and whether the request has system turns or strict tools."""
    messages: list[Message] = []
    if wire.system is not None:
        _system(wire.system, skipped, messages)
    keeps_more = _messages(wire.messages, skipped, messages)
    request = ChatRequest(model=wire.model, messages=messages, extra_family="anthropic")
    # Only fields that were given are set: a msgspec struct built from few keywords is several times faster.
    request.max_tokens = wire.max_tokens
    if wire.tools is not None:
        tools = [_tool(t) for k, t in enumerate(wire.tools) if not skipped or f"tools.{k}" not in skipped]
        request.tools = tools or None
        keeps_more = keeps_more or any(t.strict is not None for t in tools)
    if wire.tool_choice is not None:
        choice = wire.tool_choice
        request.tool_choice = ToolChoice(mode=_CHOICE_MODES[type(choice)],  # type: ignore[arg-type]
                                         name=choice.name if isinstance(choice, w.NamedChoice) else None)
        if not isinstance(choice, w.NoneChoice) and choice.disable_parallel_tool_use:
            request.parallel_tool_calls = False
    if wire.stop_sequences:
        request.stop = wire.stop_sequences
    if wire.temperature is not None:
        request.temperature = wire.temperature
    if wire.top_p is not None:
        request.top_p = wire.top_p
    if wire.stream:
        request.stream = True
    if wire.metadata is not None and wire.metadata.user_id is not None:
        request.user = wire.metadata.user_id
    if wire.top_k is not None or wire.thinking is not None or wire.service_tier is not None:
        request.extra = {name: value for name in w.EXTRA_FIELDS if (value := getattr(wire, name)) is not None}
    if wire.output_format is not None or wire.output_config is not None:
        _output(wire, request)
    return request, keeps_more


def _output(wire: w.WireRequest, request: ChatRequest) -> None:
    config = wire.output_config or {}
    fmt = wire.output_format
    if config.get("format") is not None:
        if fmt is not None:
            raise invalid("output_format", "send either 'output_format' or 'output_config.format', not both")
        try:
            fmt = msgspec.convert(config["format"], w.OutputFormat)
        except msgspec.ValidationError as exc:
            raise from_validation(exc, "output_config.format") from None
    if fmt is not None:
        request.response_format = ResponseFormat(type="json_schema", schema=fmt.schema)
    rest = {k: v for k, v in config.items() if k != "format"}
    if rest:
        request.extra = {**(request.extra or {}), "output_config": rest}


def _tool(tool: w.ToolDef) -> Tool:
    return Tool(name=tool.name, description=tool.description, parameters=tool.input_schema, strict=tool.strict)


# -- messages --------------------------------------------------------------------------------------------------------

def _system(system: str | list[w.TextBlock], skipped: set[str] | frozenset[str], out: list[Message]) -> None:
    if isinstance(system, str):
        if system:
            out.append(Message("system", [TextPart(system)]))
        return
    out.extend(Message("system", [TextPart(b.text)]) for j, b in enumerate(system)
               if b.text and f"system.{j}" not in skipped)


def _messages(wire_messages: list[w.WireMessage], skipped: set[str] | frozenset[str], out: list[Message]) -> bool:
    """Append the conversation to ``out``; True when it holds system turns."""
    names: dict[str, str] = {}  # tool_use id -> tool name, to name the results answering it
    system_turns = False
    for i, m in enumerate(wire_messages):
        content = m.content
        kind = type(m)
        if kind is w.SystemMessage:
            _system(content, _NOTHING, out)  # type: ignore[arg-type]
            system_turns = True
        elif isinstance(content, str):
            out.append(Message("user" if kind is w.UserMessage else "assistant", [TextPart(content)]))
        elif kind is w.UserMessage:
            _user(content, i, skipped, names, out)  # type: ignore[arg-type]
        else:
            out.append(Message("assistant", _assistant(content, i, skipped, names)))  # type: ignore[arg-type]
    return system_turns


def _user(content: list[w.UserBlock], i: int, skipped: set[str] | frozenset[str], names: dict[str, str],
          out: list[Message]) -> None:
    parts: list[Part] = []
    answered = False
    for j, block in enumerate(content):
        if skipped and f"messages.{i}.content.{j}" in skipped:
            continue
        kind = type(block)
        if kind is w.TextBlock:
            parts.append(TextPart(block.text))  # type: ignore[union-attr]
        elif kind is w.ImageBlock:
            parts.append(image_part(block.source, f"messages.{i}.content.{j}.source"))  # type: ignore[union-attr]
        else:
            out.append(Message("tool", [_tool_result(block, f"messages.{i}.content.{j}", skipped,  # type: ignore[arg-type]
                                                     names)]))
            answered = True
    if parts or not answered:
        out.append(Message("user", parts))


def _tool_result(block: w.ToolResultBlock, path: str, skipped: set[str] | frozenset[str],
                 names: dict[str, str]) -> ToolResultPart:
    content = block.content
    parts: list[TextPart | ImagePart]
    if content is None:
        parts = []
    elif isinstance(content, str):
        parts = [TextPart(content)]
    else:
        parts = []
        for k, item in enumerate(content):
            where = f"{path}.content.{k}"
            if skipped and where in skipped:
                continue
            if isinstance(item, w.TextBlock):
                parts.append(TextPart(item.text))
            else:
                parts.append(image_part(item.source, where + ".source"))
    return ToolResultPart(tool_call_id=block.tool_use_id, content=parts, is_error=bool(block.is_error),
                          name=names.get(block.tool_use_id))


def _assistant(content: list[w.AssistantBlock], i: int, skipped: set[str] | frozenset[str],
               names: dict[str, str]) -> list[Part]:
    parts: list[Part] = []
    for j, block in enumerate(content):
        if skipped and f"messages.{i}.content.{j}" in skipped:
            continue
        kind = type(block)
        if kind is w.TextBlock:
            parts.append(TextPart(block.text))  # type: ignore[union-attr]
        elif kind is w.ToolUseBlock:
            names[block.id] = block.name  # type: ignore[union-attr]
            parts.append(ToolCallPart(id=block.id, name=block.name,  # type: ignore[union-attr]
                                      arguments=_encode(block.input).decode()))  # type: ignore[union-attr]
        elif kind is w.ThinkingBlock:
            parts.append(ThinkingPart(text=block.thinking, signature=block.signature or None))  # type: ignore[union-attr]
        else:
            parts.append(ThinkingPart(signature=block.data, redacted=True))  # type: ignore[union-attr]
    return parts


# -- images ----------------------------------------------------------------------------------------------------------

def image_part(source: w.ImageSource, param: str) -> ImagePart:
    """The canonical part for an image ``source``; ``param`` is its path, for errors."""
    if isinstance(source, w.URLSource):
        url = source.url
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest[:1] or rest[:1] in "/?#":
            raise invalid(f"{param}.url", "expected an http(s) URL of an image")
        return ImagePart(url=url)
    media_type = source.media_type
    if media_type not in w.IMAGE_MEDIA_TYPES:
        raise invalid(f"{param}.media_type",
                      "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'")
    data = source.data
    try:
        valid = bool(data) and bool(binascii.a2b_base64(data, strict_mode=True))
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise invalid(f"{param}.data", "the image data is not valid base64")
    return ImagePart(data=data, media_type=media_type)
