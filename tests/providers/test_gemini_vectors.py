"""The recorded Gemini and Vertex traffic (pydantic-ai cassettes), sorted for the adapter tests."""

from __future__ import annotations

from tests.vectors import Interaction, cassettes

FOLDERS = (("test_google", "*.yaml"), ("test_tool_choice_matrix", "*google*"),
           ("test_model_name_suggestions", "*google*"))
_GENERATE = (":generateContent", ":streamGenerateContent")


def generate_calls() -> list[tuple[str, Interaction]]:
    """Every recorded ``generateContent`` / ``streamGenerateContent`` exchange, named ``cassette#n``."""
    out = []
    for folder, pattern in FOLDERS:
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                if any(method in item.request.uri for method in _GENERATE):
                    out.append((f"{tape.name}#{n}", item))
    return out


CALLS = generate_calls()
ANSWERS = [(n, i) for n, i in CALLS if i.response.status == 200 and i.response.json is not None]
STREAMS = [(n, i) for n, i in CALLS if i.response.status == 200 and i.response.is_stream]
ERRORS = [(n, i) for n, i in CALLS if i.response.status >= 400]


def by_name(name: str) -> Interaction:
    return next(item for n, item in CALLS if n == name)


def test_the_recordings_are_all_there() -> None:
    # Missing vector files fail here (and in every test that reads them), never skip.
    assert len(ANSWERS) >= 100
    assert len(STREAMS) >= 12
    assert [n for n, _ in ERRORS] == ["test_model_name_suggestion[google]#0"]


def test_both_apis_are_recorded() -> None:
    hosts = {i.request.uri.split("/")[2] for _, i in CALLS}
    assert "generativelanguage.googleapis.com" in hosts
    assert {"aiplatform.googleapis.com", "europe-west4-aiplatform.googleapis.com"} <= hosts
