"""Byway: a bring-your-own-key gateway and library for LLM providers.

The public names load on first use, so importing a submodule (``byway.core``,
``byway.mock``) does not pull in the engine.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LLMManager": "byway.library", "ChatCompletionRequest": "byway.library", "ChatMessage": "byway.library",
    "CostAnalysis": "byway.library", "ProviderConfig": "byway.providers.config",
    "ProviderType": "byway.providers.config",
    **{name: "byway.core" for name in (
        "AuthenticationError", "BudgetExceededError", "ByWayError", "ChatRequest", "ChatResponse",
        "InvalidRequestError", "ProviderError", "RateLimitError", "Usage")},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'byway' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
