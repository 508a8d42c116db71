"""The OpenAI Chat Completions request as typed msgspec structs.

Decoding into these validates every field in one pass and reports the JSON
path of the first problem; ``_openai_request`` turns the result into the
canonical ``ChatRequest``. Unknown fields inside nested objects are ignored,
as OpenAI's own clients expect; unknown top-level fields are collected into
``ChatRequest.extra`` (see ``KNOWN_FIELDS``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

NonEmpty = Annotated[str, Meta(min_length=1)]
Temperature = Annotated[float, Meta(ge=0, le=2)]
TopP = Annotated[float, Meta(ge=0, le=1)]
TokenLimit = Annotated[int, Meta(ge=1)]
Seed = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]


# -- content parts ---------------------------------------------------------------------------------------------------

class TextContent(Struct, tag_field="type", tag="text"):
    text: str


class ImageURL(Struct):
    url: str
    detail: str | None = None


class ImageContent(Struct, tag_field="type", tag="image_url"):
    image_url: ImageURL


class RefusalContent(Struct, tag_field="type", tag="refusal"):
    refusal: str


TextParts = Annotated[list[TextContent], Meta(min_length=1)]
UserParts = Annotated[list[TextContent | ImageContent], Meta(min_length=1)]
AssistantParts = list[TextContent | RefusalContent]


# -- messages --------------------------------------------------------------------------------------------------------

class FunctionCall(Struct):
    name: NonEmpty
    arguments: str = "{}"


class ToolCall(Struct, tag_field="type", tag="function"):
    id: NonEmpty
    function: FunctionCall


class SystemMessage(Struct, tag_field="role", tag="system"):
    content: str | TextParts
    name: str | None = None


class DeveloperMessage(Struct, tag_field="role", tag="developer"):
    content: str | TextParts
    name: str | None = None


class UserMessage(Struct, tag_field="role", tag="user"):
    content: str | UserParts
    name: str | None = None


class AssistantMessage(Struct, tag_field="role", tag="assistant"):
    content: str | AssistantParts | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None  # legacy single function call
    refusal: str | None = None
    reasoning_content: str | None = None  # what we send back as reasoning, returned by the client


class ToolMessage(Struct, tag_field="role", tag="tool"):
    tool_call_id: NonEmpty
    content: str | TextParts
    name: str | None = None


class FunctionMessage(Struct, tag_field="role", tag="function"):
    """Legacy answer to an assistant ``function_call``."""

    name: NonEmpty
    content: str | None = None


WireMessage = SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage


# -- tools -----------------------------------------------------------------------------------------------------------

class FunctionDef(Struct):
    name: NonEmpty
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(Struct, tag_field="type", tag="function"):
    function: FunctionDef


class NamedFunction(Struct):
    name: NonEmpty


class FunctionChoice(Struct, tag_field="type", tag="function"):
    function: NamedFunction


ToolChoiceMode = Literal["auto", "none", "required"]
LegacyChoiceMode = Literal["auto", "none"]


# -- response format -------------------------------------------------------------------------------------------------

class TextFormat(Struct, tag_field="type", tag="text"):
    pass


class JsonObjectFormat(Struct, tag_field="type", tag="json_object"):
    pass


class JsonSchemaSpec(Struct):
    name: NonEmpty
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class JsonSchemaFormat(Struct, tag_field="type", tag="json_schema"):
    json_schema: JsonSchemaSpec


# -- the request -----------------------------------------------------------------------------------------------------

class StreamOptions(Struct):
    include_usage: bool | None = None


class WireRequest(Struct, forbid_unknown_fields=True):
    model: NonEmpty
    messages: Annotated[list[WireMessage], Meta(min_length=1)]
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoiceMode | FunctionChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionDef] | None = None
    function_call: LegacyChoiceMode | NamedFunction | None = None
    response_format: TextFormat | JsonObjectFormat | JsonSchemaFormat | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: TokenLimit | None = None
    max_completion_tokens: TokenLimit | None = None
    stop: str | list[str] | None = None
    seed: Seed | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    reasoning_effort: str | None = None
    n: int | None = None


class LenientWireRequest(WireRequest, forbid_unknown_fields=False):
    """The same request, ignoring fields it does not know (decoded when the strict one found some)."""


KNOWN_FIELDS = frozenset(WireRequest.__struct_fields__)

request_decoder = msgspec.json.Decoder(WireRequest)
lenient_request_decoder = msgspec.json.Decoder(LenientWireRequest)
top_level_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
any_decoder = msgspec.json.Decoder()
