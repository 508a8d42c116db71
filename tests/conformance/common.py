"""What every cell sends and expects, whichever client API it speaks."""

from __future__ import annotations

import base64
from typing import Any

SYSTEM = "Be brief."
HELLO = "Hello there"
ASK_WEATHER = "What is the weather in Berlin?"
TOOL_ARGS = '{"city": "Berlin", "unit": "celsius"}'
SUNNY = "Sunny, 21 C"
IMAGE_PROMPT = "What is this?"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e5b1d1"
                    "0000000049454e44ae426082")
PNG_B64 = base64.b64encode(PNG).decode()
IMAGE_ANSWER = f"Echo: {IMAGE_PROMPT} [image image/png {len(PNG)} bytes]"
WEATHER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"]}
PERSON_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"name": {"type": "string"},
                                                                  "age": {"type": "integer"}},
                                 "required": ["name", "age"]}


def check_weather_args(arguments: dict[str, Any]) -> None:
    assert arguments["city"] == "Berlin"
    assert arguments["unit"] in ("celsius", "fahrenheit")
