"""Canonical types: the one language every adapter and codec speaks. No I/O here."""

from byway.core.accumulate import Accumulator
from byway.core.embeddings import EmbeddingRequest, EmbeddingResponse
from byway.core.errors import (
    AuthenticationError,
    BudgetExceededError,
    ByWayError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.core.events import (
    Finish,
    RefusalDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from byway.core.messages import ChatRequest, Message, ResponseFormat, Role, Tool, ToolChoice
from byway.core.parts import ImagePart, Part, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from byway.core.response import ChatResponse, StopReason
from byway.core.usage import Usage

__all__ = [
    "Accumulator", "AuthenticationError", "BudgetExceededError", "ByWayError", "ChatRequest", "ChatResponse",
    "EmbeddingRequest", "EmbeddingResponse",
    "Finish", "ImagePart", "InvalidRequestError", "Message", "ModelNotFoundError", "NotFoundError", "Part",
    "PermissionDeniedError", "ProviderError", "RateLimitError", "RefusalDelta", "ResponseFormat", "Role",
    "StopReason", "StreamEvent", "StreamStart", "TextDelta", "TextPart", "ThinkingDelta", "ThinkingPart", "Tool",
    "ToolCallDelta", "ToolCallPart", "ToolCallStart", "ToolChoice", "ToolResultPart", "UpstreamAuthError",
    "UpstreamInvalidRequestError", "UpstreamModelNotFoundError", "UpstreamRateLimitError", "UpstreamTimeoutError",
    "UpstreamUnavailableError", "Usage", "UsageReport",
]
