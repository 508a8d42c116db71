"""One family-neutral error value. Request parsers, the brain and faults raise ``Problem``;
each provider family renders it in its own error envelope."""

from __future__ import annotations

from collections.abc import Mapping


class Problem(Exception):
    """An error answer: HTTP ``status`` and ``message``, with optional OpenAI-style ``param``/``code``.

    ``headers`` are extra response headers (``retry-after``); ``family_body`` replaces the
    family's envelope outright when a provider answers some case in its own odd shape (Azure 401).
    """

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: Mapping[str, str] | None = None, family_body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = dict(headers or {})
        self.family_body = family_body


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> Problem:
    return Problem(400, message, param=param, code=code)
