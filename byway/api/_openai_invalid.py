"""Turning msgspec's validation messages into ``InvalidRequestError`` with a JSON path as ``param``.

msgspec reports ``<detail> - at `$.messages[2].content``; clients want to read
``messages[2].content`` and a sentence that says what was wrong.
"""

from __future__ import annotations

import re

from byway.core import InvalidRequestError

_AT = " - at `"
_MISSING = re.compile(r"Object missing required field `([^`]*)`")
_INVALID_TAG = re.compile(r"Invalid (?:enum )?value '(.*)'$", re.DOTALL)

# What a tagged field may hold, by the shape of its path (messages[3].role -> messages[].role).
_CHOICES = {
    "messages[].role": "system, developer, user, assistant, tool",
    "messages[].content[].type": "text, image_url (user); text, refusal (assistant)",
    "messages[].tool_calls[].type": "function",
    "tools[].type": "function",
    "tool_choice": "auto, none, required, or {\"type\": \"function\", \"function\": {\"name\": ...}}",
    "tool_choice.type": "function",
    "function_call": "auto, none, or {\"name\": ...}",
    "response_format.type": "text, json_object, json_schema",
}
_INDEX = re.compile(r"\[\d+\]")


def _param(path: str) -> str | None:
    """``$.messages[0].content`` -> ``messages[0].content``; ``$`` -> None; map keys (``[...]``) dropped."""
    path = path.replace("[...]", "")
    if path in ("$", ""):
        return None
    return path[2:] if path.startswith("$.") else path.lstrip("$")


def _join(parent: str | None, field: str) -> str:
    return f"{parent}.{field}" if parent else field


def invalid_from_validation(exc: Exception) -> InvalidRequestError:
    """An ``InvalidRequestError`` for a msgspec ``ValidationError``."""
    text = str(exc)
    detail, sep, path = text.rpartition(_AT)
    if not sep:
        detail, path = text, "$"
    param = _param(path.rstrip("`"))
    missing = _MISSING.fullmatch(detail)
    if missing:
        name = _join(param, missing.group(1))
        return InvalidRequestError(f"Missing required parameter: '{name}'.", param=name)
    if param is None:
        if detail.startswith("Expected `object`"):
            return InvalidRequestError("The request body must be a JSON object.", param=None)
        return InvalidRequestError(f"Invalid request: {detail}.", param=None)
    tag = _INVALID_TAG.fullmatch(detail)
    if tag:
        choices = _CHOICES.get(_INDEX.sub("[]", param))
        hint = f"; supported values are: {choices}" if choices else ""
        message = f"Invalid value for '{param}': '{tag.group(1)}' is not supported{hint}."
        return InvalidRequestError(message, param=param)
    return InvalidRequestError(f"Invalid value for '{param}': {detail[:1].lower()}{detail[1:]}.", param=param)


def malformed_json(exc: Exception) -> InvalidRequestError:
    detail = str(exc)
    if detail == "Input data was truncated":
        detail = "the body is empty or ends early"
    return InvalidRequestError(f"We could not parse the JSON body of your request: {detail}.", param=None)
