"""msgspec's validation messages as Anthropic-style 400s: ``messages.0.content.1.type: ...``.

msgspec reports ``<detail> - at `$.messages[0].content[1].type```; Anthropic names a field
with dots (``messages.0.content.1.type``) and says what was wrong after a colon.
"""

from __future__ import annotations

import re

from byway.core import InvalidRequestError

_AT = " - at `"
_MISSING = re.compile(r"Object missing required field `([^`]*)`")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]*)`")
_INVALID_TAG = re.compile(r"Invalid (?:enum )?value '(.*)'$", re.DOTALL)
_INDEX = re.compile(r"\.\d+(?=\.|$)")

_USER_BLOCKS = "text, image, tool_result, document"
_ASSISTANT_BLOCKS = "text, tool_use, thinking, redacted_thinking"
# What a tagged field may hold, by the shape of its path (indexes replaced by N).
_CHOICES = {
    "messages.N.role": "user, assistant, system",
    "messages.N.content.N.type": f"{_USER_BLOCKS} in user messages; {_ASSISTANT_BLOCKS} in assistant messages",
    "messages.N.content.N.source.type": "base64, url",
    "messages.N.content.N.content.N.type": "text, image",
    "messages.N.content.N.content.N.source.type": "base64, url",
    "system.N.type": "text",
    "tool_choice.type": "auto, any, tool, none",
    "tools.N.type": "custom, or one of Anthropic's own tool types",
}


def dotted(path: str) -> str | None:
    """``$.messages[0].content`` -> ``messages.0.content``; ``$`` -> None."""
    path = path.replace("[...]", "")
    if path in ("$", ""):
        return None
    path = path[2:] if path.startswith("$.") else path.lstrip("$")
    return path.replace("[", ".").replace("]", "").lstrip(".")


def _join(parent: str | None, field: str) -> str:
    return f"{parent}.{field}" if parent else field


def invalid(param: str | None, detail: str) -> InvalidRequestError:
    """A 400 whose message names the field first, as Anthropic's do."""
    return InvalidRequestError(f"{param}: {detail}" if param else detail, param=param)


def from_validation(exc: Exception, prefix: str | None = None) -> InvalidRequestError:
    """An ``InvalidRequestError`` for a msgspec ``ValidationError`` (``prefix``: the path its value sits at)."""
    text = str(exc)
    detail, sep, path = text.rpartition(_AT)
    if not sep:
        detail, path = text, "$"
    param = dotted(path.rstrip("`"))
    if prefix:
        param = _join(prefix, param) if param else prefix
    missing = _MISSING.fullmatch(detail)
    if missing:
        return invalid(_join(param, missing.group(1)), "Field required")
    unknown = _UNKNOWN.fullmatch(detail)
    if unknown:
        return invalid(_join(param, unknown.group(1)), "Extra inputs are not permitted")
    if param is None:
        if detail.startswith("Expected `object`"):
            return InvalidRequestError("The request body must be a JSON object.", param=None)
        return InvalidRequestError(f"Invalid request: {detail}.", param=None)
    tag = _INVALID_TAG.fullmatch(detail)
    if tag:
        choices = _CHOICES.get(_INDEX.sub(".N", param))
        hint = f"; expected one of: {choices}" if choices else ""
        return invalid(param, f"'{tag.group(1)}' is not supported here{hint}")
    return invalid(param, f"{detail[:1].lower()}{detail[1:]}")


def malformed_json(exc: Exception) -> InvalidRequestError:
    detail = str(exc)
    if detail == "Input data was truncated":
        detail = "the body is empty or ends early"
    return InvalidRequestError(f"There was an issue with the format of your request: the body is not valid JSON "
                               f"({detail}).", param=None)
