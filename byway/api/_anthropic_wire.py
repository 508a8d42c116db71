"""The Anthropic Messages request as typed msgspec structs.

Every struct forbids fields it does not know, so decoding a request whose every
field has a canonical place succeeds in one pass (the fast path). A request
with anything more — ``cache_control``, server tools, documents, new fields —
fails that decode and is taken apart by ``_anthropic_native`` instead, which
strips what these structs do not model and hands the rest back to them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

NonEmpty = Annotated[str, Meta(min_length=1)]
UnitInterval = Annotated[float, Meta(ge=0, le=1)]
TokenLimit = Annotated[int, Meta(ge=1)]
TopK = Annotated[int, Meta(ge=0)]

IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


# -- content blocks --------------------------------------------------------------------------------------------------

class Base64Source(Struct, tag_field="type", tag="base64", forbid_unknown_fields=True):
    media_type: str
    data: str


class URLSource(Struct, tag_field="type", tag="url", forbid_unknown_fields=True):
    url: str


ImageSource = Base64Source | URLSource


class TextBlock(Struct, tag_field="type", tag="text", forbid_unknown_fields=True):
    text: str


class ImageBlock(Struct, tag_field="type", tag="image", forbid_unknown_fields=True):
    source: ImageSource


class ToolResultBlock(Struct, tag_field="type", tag="tool_result", forbid_unknown_fields=True):
    tool_use_id: NonEmpty
    content: str | list[TextBlock | ImageBlock] | None = None
    is_error: bool | None = None


class ToolUseBlock(Struct, tag_field="type", tag="tool_use", forbid_unknown_fields=True):
    id: NonEmpty
    name: NonEmpty
    input: dict[str, Any]


class ThinkingBlock(Struct, tag_field="type", tag="thinking", forbid_unknown_fields=True):
    thinking: str
    signature: str


class RedactedThinkingBlock(Struct, tag_field="type", tag="redacted_thinking", forbid_unknown_fields=True):
    data: str


UserBlock = TextBlock | ImageBlock | ToolResultBlock
AssistantBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock


# -- messages --------------------------------------------------------------------------------------------------------

class UserMessage(Struct, tag_field="role", tag="user", forbid_unknown_fields=True):
    content: str | list[UserBlock]


class AssistantMessage(Struct, tag_field="role", tag="assistant", forbid_unknown_fields=True):
    content: str | list[AssistantBlock]


class SystemMessage(Struct, tag_field="role", tag="system", forbid_unknown_fields=True):
    """An instruction in the middle of the conversation (Anthropic keeps it where it stands)."""

    content: str | list[TextBlock]


WireMessage = UserMessage | AssistantMessage | SystemMessage


# -- tools -----------------------------------------------------------------------------------------------------------

class ToolDef(Struct, forbid_unknown_fields=True):
    """A client tool. Anthropic's own tools (``web_search_20250305``, ``bash_...``) carry another ``type``."""

    name: NonEmpty
    input_schema: dict[str, Any]
    description: str | None = None
    type: Literal["custom"] | None = None
    strict: bool | None = None


class AutoChoice(Struct, tag_field="type", tag="auto", forbid_unknown_fields=True):
    disable_parallel_tool_use: bool | None = None


class AnyChoice(Struct, tag_field="type", tag="any", forbid_unknown_fields=True):
    disable_parallel_tool_use: bool | None = None


class NamedChoice(Struct, tag_field="type", tag="tool", forbid_unknown_fields=True):
    name: NonEmpty
    disable_parallel_tool_use: bool | None = None


class NoneChoice(Struct, tag_field="type", tag="none", forbid_unknown_fields=True):
    pass


WireToolChoice = AutoChoice | AnyChoice | NamedChoice | NoneChoice


# -- the request -----------------------------------------------------------------------------------------------------

class OutputFormat(Struct, tag_field="type", tag="json_schema", forbid_unknown_fields=True):
    """Structured output: the answer is JSON matching ``schema`` (``output_format``, or ``output_config.format``)."""

    schema: dict[str, Any]


class Metadata(Struct, forbid_unknown_fields=True):
    user_id: str | None = None


class WireRequest(Struct, forbid_unknown_fields=True):
    model: NonEmpty
    max_tokens: TokenLimit
    messages: Annotated[list[WireMessage], Meta(min_length=1)]
    system: str | list[TextBlock] | None = None
    tools: list[ToolDef] | None = None
    tool_choice: WireToolChoice | None = None
    stop_sequences: list[str] | None = None
    temperature: UnitInterval | None = None
    top_p: UnitInterval | None = None
    stream: bool | None = None
    metadata: Metadata | None = None
    output_format: OutputFormat | None = None
    output_config: dict[str, Any] | None = None  # its ``format`` is an OutputFormat; the rest travels in extra
    # Anthropic-only fields with no canonical place: checked here, then carried in ``ChatRequest.extra``.
    top_k: TopK | None = None
    thinking: dict[str, Any] | None = None
    service_tier: str | None = None


EXTRA_FIELDS = ("top_k", "thinking", "service_tier")
"""``WireRequest`` fields that travel in ``ChatRequest.extra`` for the Anthropic adapter."""


def fields_of(*structs: type[Struct]) -> dict[str, frozenset[str]]:
    """Tag -> the keys a tagged struct knows (its tag field included)."""
    out: dict[str, frozenset[str]] = {}
    for struct in structs:
        config = struct.__struct_config__
        out[str(config.tag)] = frozenset((*struct.__struct_fields__, str(config.tag_field)))
    return out


USER_BLOCKS = fields_of(TextBlock, ImageBlock, ToolResultBlock)
ASSISTANT_BLOCKS = fields_of(TextBlock, ToolUseBlock, ThinkingBlock, RedactedThinkingBlock)
RESULT_BLOCKS = fields_of(TextBlock, ImageBlock)
SOURCES = fields_of(Base64Source, URLSource)
CHOICES = fields_of(AutoChoice, AnyChoice, NamedChoice, NoneChoice)
MESSAGE_FIELDS = frozenset(("role", "content"))
TOOL_FIELDS = frozenset(ToolDef.__struct_fields__)
METADATA_FIELDS = frozenset(Metadata.__struct_fields__)
REQUEST_FIELDS = frozenset(WireRequest.__struct_fields__)

request_decoder = msgspec.json.Decoder(WireRequest)
any_decoder = msgspec.json.Decoder()
