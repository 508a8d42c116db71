"""Issue 4's finish line: two users each add their own OpenAI-compatible and Anthropic credentials through
the API (against the mocks), each calls /v1/chat/completions with their own gateway key, and the mock's
request log shows each request carried that user's own provider key — on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from byway.mock import MockServer
from tests.accounts.conftest import MASTER, serving
from tests.store.databases import blank_url, database_url, postgres

__all__ = ["MASTER", "blank_url", "database_url", "postgres"]

KEYS = {"ann": ("sk-ann-openai-0001", "sk-ant-ann-0001"), "bob": ("sk-bob-openai-0002", "sk-ant-bob-0002")}


async def test_each_user_is_served_with_their_own_provider_keys(tmp_path: Path, mock: MockServer,
                                                                database_url: str) -> None:
    async with serving(tmp_path, mock.url, database_url=database_url) as gateway:
        members = {name: await gateway.member(f"{name}@example.com") for name in KEYS}
        for name, (openai_key, anthropic_key) in KEYS.items():
            who = members[name]
            await gateway.credential(who, "gpt", openai_key, model="gpt-4o-mini")
            await gateway.credential(who, "claude", anthropic_key, provider_type="anthropic",
                                     base_url=f"{mock.url}/anthropic", model="claude-3-5-haiku-latest")
        mock.reset()
        for name in ("ann", "bob", "ann", "bob"):
            for model in ("gpt", "claude:claude-3-5-haiku-latest"):
                answer = await gateway.chat(members[name], model, text=f"hello from {name}")
                assert answer.status_code == 200, answer.text
                assert answer.json()["choices"][0]["message"]["content"] == f"Echo: hello from {name}"
        seen = []
        for record in mock.requests():
            headers = {k.lower(): v for k, v in record["headers"].items()}
            key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
            text = record["body"]["messages"][-1]["content"]
            seen.append((record["path"], key, text if isinstance(text, str) else text[0]["text"]))
        assert seen == [
            ("/openai/v1/chat/completions", "sk-ann-openai-0001", "hello from ann"),
            ("/anthropic/v1/messages", "sk-ant-ann-0001", "hello from ann"),
            ("/openai/v1/chat/completions", "sk-bob-openai-0002", "hello from bob"),
            ("/anthropic/v1/messages", "sk-ant-bob-0002", "hello from bob"),
        ] * 2
