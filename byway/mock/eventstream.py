"""Writing AWS event-stream messages (``application/vnd.amazon.eventstream``), as Bedrock's ConverseStream sends.

A message is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes; big-endian), the
headers, the payload and a CRC32 of everything before it. A header is a 1-byte name length, the name, a
1-byte value type (7: string), a 2-byte value length and the value. Bedrock's events carry three string
headers: ``:event-type`` (``messageStart``, ``contentBlockDelta``...), ``:content-type`` and
``:message-type`` (``event``, or ``exception`` with ``:exception-type`` instead of ``:event-type``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

import msgspec

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_HEADER_VALUE = struct.Struct(">BH")
JSON = "application/json"


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes((len(raw_name),)) + raw_name + _HEADER_VALUE.pack(_STRING, len(raw_value)) + raw_value


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string ``headers`` (in the order given) and ``payload``."""
    head = b"".join(_header(name, value) for name, value in headers.items())
    prelude = _PRELUDE.pack(12 + len(head) + len(payload) + 4, len(head))
    message = prelude + _CRC.pack(zlib.crc32(prelude)) + head + payload
    return message + _CRC.pack(zlib.crc32(message))


def event(event_type: str, payload: object) -> bytes:
    """An ``event`` message with a JSON payload."""
    headers = {":event-type": event_type, ":content-type": JSON, ":message-type": "event"}
    return encode_message(headers, msgspec.json.encode(payload))


def exception(exception_type: str, message: str) -> bytes:
    """An ``exception`` message (``throttlingException``, ``modelStreamErrorException``...)."""
    headers = {":exception-type": exception_type, ":content-type": JSON, ":message-type": "exception"}
    return encode_message(headers, msgspec.json.encode({"message": message}))
