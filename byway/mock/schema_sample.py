"""Deterministic sample values for a JSON schema: tool-call arguments and JSON-mode answers.

Rules: ``const``, then ``enum`` (first value), then ``default``; ``$ref`` into ``$defs`` /
``definitions``; ``anyOf``/``oneOf``/``allOf`` take the first non-null branch; by type:
string ``"example"`` (``format`` date / date-time / email / uri / uuid get a matching value, a
property named like city/location/place/town/country takes ``place``), integer ``minimum`` or 1,
number ``minimum`` or 1.5, boolean ``true``, null ``null``, array ``minItems`` (at least 1) samples of
``items``, object its ``required`` properties (all properties when ``required`` is absent).
"""

from __future__ import annotations

from typing import Any

_PLACE_NAMES = ("city", "location", "place", "town", "country", "region", "destination")
_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_MAX_DEPTH = 8


def sample(schema: Any, *, place: str = "Paris") -> Any:
    """A value matching ``schema``; ``place`` fills place-like string properties."""
    return _Sampler(schema if isinstance(schema, dict) else {}, place).value(schema, "", 0)


class _Sampler:
    def __init__(self, root: dict[str, Any], place: str) -> None:
        self.root = root
        self.place = place

    def value(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self.value(self._resolve(ref), name, depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                chosen = next((b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")),
                              branches[0])
                return self.value(chosen, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        return self._typed(kind, schema, name, depth)

    def _typed(self, kind: str, schema: dict[str, Any], name: str, depth: int) -> Any:
        if kind == "string":
            return self._string(schema, name)
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return schema.get("minimum", 1.5)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        if kind == "array":
            count = max(1, int(schema.get("minItems", 1)))
            return [self.value(schema.get("items", {}), name, depth + 1) for _ in range(count)]
        props = schema.get("properties") or {}
        required = schema.get("required")
        names = required if isinstance(required, list) else list(props)
        return {key: self.value(props.get(key, {}), key, depth + 1) for key in names}

    def _string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        lowered = name.lower()
        if any(word in lowered for word in _PLACE_NAMES):
            return self.place
        return "example"

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return {}
        node: Any = self.root
        for part in ref[2:].split("/"):
            if not isinstance(node, dict):
                return {}
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
        return node
