"""The client-facing Anthropic Messages codec.

``decode_request`` turns a request body into the canonical ``ChatRequest`` (``decode`` also
says what in it only an Anthropic provider can be given); ``encode_response`` turns a
``ChatResponse`` into the ``message`` body; ``StreamEncoder`` turns a provider stream into
Messages events (or passes an Anthropic stream through untouched). Errors use Anthropic's
envelope from ``byway.api.errors``.
"""

from byway.api._anthropic_request import Decoded, decode, decode_request
from byway.api._anthropic_response import INVALID_ARGUMENTS, STOP_REASONS, encode_response, message_object
from byway.api._anthropic_stream import StreamEncoder

__all__ = ["INVALID_ARGUMENTS", "STOP_REASONS", "Decoded", "StreamEncoder", "decode", "decode_request",
           "encode_response", "message_object"]
