"""The client-facing OpenAI Chat Completions codec.

``decode_request`` turns a request body into the canonical ``ChatRequest``;
``encode_response`` turns a ``ChatResponse`` into the ``chat.completion`` body;
``StreamEncoder`` turns a provider stream into ``chat.completion.chunk`` events
(or passes an OpenAI-format stream through untouched). Errors use the OpenAI
envelope from ``byway.api.errors``.
"""

from byway.api._openai_request import decode_request
from byway.api._openai_response import FINISH_REASONS, encode_response
from byway.api._openai_stream import DONE, StreamEncoder

__all__ = ["DONE", "FINISH_REASONS", "StreamEncoder", "decode_request", "encode_response"]
