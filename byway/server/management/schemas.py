"""The documents only the management API answers (lists, errors, the provider catalogue), beside the
account documents of ``byway.accounts.shapes``. Every answer is one of these types, so the OpenAPI
document is generated from the same definitions the handlers encode."""

from __future__ import annotations

from typing import Literal

import msgspec

from byway.accounts.fields import Field
from byway.accounts.shapes import CredentialOut, KeyOut, UserOut


class ErrorBody(msgspec.Struct, kw_only=True):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorOut(msgspec.Struct, kw_only=True):
    error: ErrorBody


class UserList(msgspec.Struct, kw_only=True):
    data: list[UserOut]


class KeyList(msgspec.Struct, kw_only=True):
    data: list[KeyOut]


class CredentialList(msgspec.Struct, kw_only=True):
    data: list[CredentialOut]


class ProviderTypeOut(msgspec.Struct, kw_only=True):
    type: str
    display_name: str
    family: str
    key_url: str | None
    default_base_url: str | None
    default_model: str | None
    suggested_models: list[str]
    key_required: bool
    fields: list[Field]


class ProviderTypeList(msgspec.Struct, kw_only=True):
    data: list[ProviderTypeOut]


class ModelOut(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["model"] = "model"
    owned_by: str


class ModelList(msgspec.Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class MeOut(msgspec.Struct, kw_only=True):
    kind: Literal["master", "key", "session"]
    role: Literal["admin", "member"]
    user_id: str | None
    key_id: str | None
    email: str | None
