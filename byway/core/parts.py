"""Content parts: the pieces a message is made of.

Every provider adapter maps its own content blocks to and from these. A part
is a tagged msgspec struct, so a list of parts encodes and decodes with its
``type`` tag and can be matched with ``isinstance`` or ``match``.
"""

from __future__ import annotations

import msgspec


class TextPart(msgspec.Struct, tag="text", frozen=True):
    text: str


class ImagePart(msgspec.Struct, tag="image", frozen=True):
    """An image given either by URL (http/https) or inline as base64 data."""

    url: str | None = None
    data: str | None = None  # base64, without the data: prefix
    media_type: str | None = None  # e.g. image/png; required with data
    detail: str | None = None  # OpenAI's low/high/auto hint

    @property
    def data_url(self) -> str:
        if self.data is not None:
            return f"data:{self.media_type or 'application/octet-stream'};base64,{self.data}"
        return self.url or ""


class ToolCallPart(msgspec.Struct, tag="tool_call", frozen=True):
    """A call the model makes. ``arguments`` is the JSON text the model wrote."""

    id: str
    name: str
    arguments: str = "{}"


class ToolResultPart(msgspec.Struct, tag="tool_result", frozen=True):
    """The answer to a tool call, sent back by the client."""

    tool_call_id: str
    content: list[TextPart | ImagePart]
    is_error: bool = False
    name: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


class ThinkingPart(msgspec.Struct, tag="thinking", frozen=True):
    """Model reasoning. ``redacted`` thinking carries only opaque ``signature`` data."""

    text: str = ""
    signature: str | None = None
    redacted: bool = False


Part = TextPart | ImagePart | ToolCallPart | ToolResultPart | ThinkingPart
