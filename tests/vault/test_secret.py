"""Secrets in memory: hints that never show more than half, and no repr that shows anything."""

from __future__ import annotations

import pickle

import msgspec
import pytest

from byway.vault import Secret, VaultError, key_hint


@pytest.mark.parametrize(("secret", "hint"), [
    ("sk-proj-0123456789abcdefa1b2", "sk-p…a1b2"),
    ("sk-ant-api03-xyz", "sk-a…-xyz"),
    ("0123456789ab", "012…9ab"),
    ("abcdefgh", "ab…gh"),
    ("abcd", "a…d"),
    ("abc", "…"),
    ("", ""),
])
def test_key_hint_shows_at_most_four_and_four(secret: str, hint: str) -> None:
    assert key_hint(secret) == hint
    shown = hint.replace("…", "")
    assert len(shown) <= min(8, len(secret) // 2)


def test_repr_and_str_hide_every_value() -> None:
    secret = Secret({"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG",
                     "aws_session_token": "FwoGZXIvYXdzEJr"})
    for text in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"s": secret})):
        assert "AKIA" not in text and "wJalr" not in text and "FwoG" not in text
    assert repr(secret) == "Secret(aws_access_key_id=***, aws_secret_access_key=***, aws_session_token=***)"
    assert secret["aws_secret_access_key"] == "wJalrXUtnFEMI/K7MDENG"
    assert dict(secret) == {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG",
                            "aws_session_token": "FwoGZXIvYXdzEJr"}
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_hint_comes_from_the_identifying_field() -> None:
    assert Secret.api_key("sk-proj-0123456789abcdefa1b2").hint() == "sk-p…a1b2"
    aws = Secret({"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG", "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"})
    assert aws.hint() == "AKIA…MPLE"
    service_account = msgspec.json.encode({"type": "service_account", "private_key_id": "a1b2c3d4e5f60718293a",
                                           "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE...",
                                           "client_email": "byway@proj.iam.gserviceaccount.com"}).decode()
    assert Secret({"credentials_json": service_account}).hint() == "a1b2…293a"
    assert Secret({"credentials_json": "not json"}).hint() == ""
    assert Secret({"token": "0123456789abcdef"}).hint() == "0123…cdef"


def test_documents_round_trip_and_bad_ones_are_refused() -> None:
    secret = Secret({"b": "2", "a": "1"})
    assert secret.to_bytes() == b'{"a":"1","b":"2"}'
    assert Secret.from_bytes(secret.to_bytes()) == secret
    with pytest.raises(VaultError):
        Secret.from_bytes(b'{"a": 1}')
    with pytest.raises(VaultError):
        Secret.from_bytes(b"\x00garbage")
    with pytest.raises(ValueError):
        Secret({})
    with pytest.raises(ValueError, match="api_key"):
        Secret({"api_key": ""})
