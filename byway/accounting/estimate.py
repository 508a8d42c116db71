"""Token estimates, for when nobody has counted yet: the worst case a budget reserves before a call, the
tokens a rate limit charges up front, and the usage of an answer whose provider reported none.

Text goes by the one rule in ``byway.core.usage.estimate_tokens`` (about four characters a token), plus a
few tokens of framing per message; an image is charged at a typical tile cost. An estimate is only ever used as one:
records that rest on it are marked ``estimated``.
"""

from __future__ import annotations

import msgspec

from byway.core import ChatRequest
from byway.core.parts import ImagePart, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from byway.core.usage import CHARS_PER_TOKEN, estimate_tokens

TOKENS_PER_MESSAGE = 4
TOKENS_PER_IMAGE = 765  # a 512x512-tile image at high detail on OpenAI's scale; others charge less


def tokens_in_text(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def prompt_tokens(request: ChatRequest) -> int:
    chars = 0
    images = 0
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, TextPart | ThinkingPart):
                chars += len(part.text)
            elif isinstance(part, ToolCallPart):
                chars += len(part.name) + len(part.arguments)
            elif isinstance(part, ToolResultPart):
                for inner in part.content:
                    if isinstance(inner, TextPart):
                        chars += len(inner.text)
                    else:
                        images += 1
            elif isinstance(part, ImagePart):
                images += 1
    for tool in request.tools or ():
        chars += len(tool.name) + len(tool.description or "") + len(msgspec.json.encode(tool.parameters))
    return tokens_in_text(chars) + TOKENS_PER_MESSAGE * len(request.messages) + TOKENS_PER_IMAGE * images + 3


def embedding_tokens(inputs: list[str]) -> int:
    return sum(estimate_tokens(text) for text in inputs)
