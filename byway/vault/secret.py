"""Provider secrets in memory: one small document of a credential's secret fields (an API key; an
AWS key pair and optional session token; a Google service-account JSON). Never shown in a repr."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import msgspec

from byway.vault.errors import VaultError

# Which fields of a provider connection are secret; everything else is stored in the clear.
SECRET_FIELDS = frozenset({"api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                           "credentials_json"})
# The field whose hint lists show, in order of preference.
_HINTED = ("api_key", "aws_access_key_id", "credentials_json")
_JSON = msgspec.json.Decoder(dict[str, str])
_ANY_JSON = msgspec.json.Decoder()


def key_hint(secret: str) -> str:
    """At most the first 4 and last 4 characters (``sk-p…a1b2``); shorter secrets show less, so a hint
    never shows more than half of a secret."""
    shown = min(4, len(secret) // 4)
    if shown == 0:
        return "…" if secret else ""
    return f"{secret[:shown]}…{secret[-shown:]}"


class Secret(Mapping[str, str]):
    """A credential's secret fields, read-only. ``repr`` names the fields and hides the values."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, str]) -> None:
        if not fields:
            raise ValueError("a secret needs at least one field")
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"secret field {name!r} must be a non-empty string")
        self._fields = dict(fields)

    @classmethod
    def api_key(cls, key: str) -> Secret:
        return cls({"api_key": key})

    def __getitem__(self, name: str) -> str:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return "Secret(" + ", ".join(f"{name}=***" for name in sorted(self._fields)) + ")"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a Secret is not picklable")

    def hint(self) -> str:
        """What lists may show: the key hint of the API key (or AWS key id, or service-account key id)."""
        for name in _HINTED:
            value = self._fields.get(name)
            if value is None:
                continue
            if name == "credentials_json":
                return key_hint(_service_account_id(value))
            return key_hint(value)
        return key_hint(next(iter(self._fields.values())))

    def to_bytes(self) -> bytes:
        return msgspec.json.encode(dict(sorted(self._fields.items())))

    @classmethod
    def from_bytes(cls, data: bytes) -> Secret:
        try:
            return cls(_JSON.decode(data))
        except (msgspec.DecodeError, ValueError):
            raise VaultError("a decrypted secret is not a secret document") from None


def _service_account_id(document: str) -> str:
    try:
        parsed = _ANY_JSON.decode(document)
    except msgspec.DecodeError:
        return ""
    if isinstance(parsed, dict):
        for field in ("private_key_id", "client_email"):
            value = parsed.get(field)
            if isinstance(value, str):
                return value
    return ""
