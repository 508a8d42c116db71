"""The mock's token arithmetic: simple, documented rules so tests can assert exact numbers.

- a piece of text costs ``ceil(len(text) / 4)`` tokens;
- a prompt costs ``PRIMING`` + for each message ``PER_MESSAGE`` + its text (text parts, tool-call
  names and arguments, tool results, concatenated) + ``PER_IMAGE`` per image, + for each offered
  tool ``PER_TOOL`` + the text of its name, description and compact JSON schema;
- a completion costs its visible text + for each tool call its name and compact JSON arguments
  + the reasoning text (reasoning tokens are part of the completion, as OpenAI counts them);
- prompts longer than ``CACHE_BLOCK`` tokens report a cached prefix: the largest multiple of
  ``CACHE_BLOCK`` strictly below the prompt size.
"""

from __future__ import annotations

PRIMING = 3
PER_MESSAGE = 4
PER_IMAGE = 85
PER_TOOL = 8
CACHE_BLOCK = 1024
CHARS_PER_TOKEN = 4


def text_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters of text."""
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def cached_prefix(prompt_tokens: int) -> int:
    """The cached part of a prompt of ``prompt_tokens`` tokens (0 for short prompts)."""
    return CACHE_BLOCK * ((prompt_tokens - 1) // CACHE_BLOCK) if prompt_tokens > CACHE_BLOCK else 0


def chars_for_tokens(tokens: int) -> int:
    """How many characters fit in ``tokens`` tokens (used to truncate at ``max_tokens``)."""
    return max(0, tokens) * CHARS_PER_TOKEN
