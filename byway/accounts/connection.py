"""A credential's connection fields, sorted: secret ones for the vault, type-specific ones for the
``extra`` column, and the base URL. Checked against what the provider type takes."""

from __future__ import annotations

from typing import Any

import msgspec

from byway.accounts.errors import Unprocessable
from byway.accounts.fields import EXTRA_FIELDS, fields_for
from byway.accounts.inputs import CredentialFields
from byway.providers.catalog import ProviderSpec
from byway.vault import SECRET_FIELDS

CONNECTION_FIELDS = CredentialFields.__struct_fields__
# A credential needs a sealed secret even when its provider takes no key (a local Ollama): this one.
KEYLESS = {"keyless": "1"}
_JSON = msgspec.json.Decoder()


class Connection(msgspec.Struct, kw_only=True):
    secret: dict[str, str]
    extra: dict[str, str]
    base_url: str | None

    def __repr__(self) -> str:
        fields = ", ".join(sorted(self.secret))
        return f"Connection(secret=<{fields}>, extra={self.extra!r}, base_url={self.base_url!r})"

    __str__ = __repr__


def given(document: CredentialFields) -> dict[str, Any]:
    """The connection fields ``document`` sets (a value, or None to remove it)."""
    return {name: value for name in CONNECTION_FIELDS
            if (value := getattr(document, name)) is not msgspec.UNSET}


def _clean(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if name == "credentials_json":
        text = msgspec.json.encode(value).decode() if isinstance(value, dict) else str(value)
        _service_account(text)
        return text
    text = str(value).strip()
    return text or None


def _service_account(text: str) -> dict[str, Any]:
    try:
        document = _JSON.decode(text)
    except msgspec.DecodeError:
        raise Unprocessable("credentials_json is not JSON (give the service-account key file's contents)",
                            param="credentials_json") from None
    if not isinstance(document, dict) or not all(isinstance(document.get(k), str) for k in ("client_email",
                                                                                            "private_key")):
        raise Unprocessable("credentials_json must be a service-account key with client_email and private_key",
                            param="credentials_json")
    return document


def token_uri(connection: Connection) -> str | None:
    """The token endpoint a Vertex service-account key names (a URL the user supplies)."""
    text = connection.secret.get("credentials_json")
    if text is None:
        return None
    uri = _service_account(text).get("token_uri")
    return uri if isinstance(uri, str) else None


def build(spec: ProviderSpec, values: dict[str, Any], *, base: Connection | None = None) -> Connection:
    """The connection from ``values`` (over ``base`` when changing one), refusing fields the type does not
    take and asking for the ones it needs."""
    fields = {f.name: f for f in fields_for(spec)}
    secret = dict(base.secret) if base is not None else {}
    secret.pop("keyless", None)
    extra = dict(base.extra) if base is not None else {}
    base_url = base.base_url if base is not None else None
    for name, raw in values.items():
        if name not in fields:
            raise Unprocessable(f"{name} does not apply to provider type {spec.type.value}", param=name,
                                code="unknown_field")
        value = _clean(name, raw)
        if name == "base_url":
            base_url = value.rstrip("/") if value else None
        elif name in SECRET_FIELDS:
            _put(secret, name, value)
        elif name in EXTRA_FIELDS:
            _put(extra, name, value)
    for field in fields.values():
        present = base_url if field.name == "base_url" else secret.get(field.name) or extra.get(field.name)
        if present:
            continue
        if field.required and field.default is not None and field.name in EXTRA_FIELDS:
            extra[field.name] = field.default
        elif field.required:
            raise Unprocessable(f"{field.name} is required for provider type {spec.type.value}", param=field.name,
                                code="missing_field")
    return Connection(secret=secret or dict(KEYLESS), extra=extra, base_url=base_url)


def _put(target: dict[str, str], name: str, value: str | None) -> None:
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value
