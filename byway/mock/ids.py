"""Provider-shaped identifiers (``chatcmpl-…``, ``call_…``, ``msg_01…``, ``toolu_01…``, ``req_…``).

They are derived from a per-server sequence number, so a given run of requests always yields
the same identifiers, while two requests never share one.
"""

from __future__ import annotations

import hashlib
import itertools
import string

_ALNUM = string.ascii_letters + string.digits


class IdMaker:
    def __init__(self) -> None:
        self._seq = itertools.count(1)

    def reset(self) -> None:
        self._seq = itertools.count(1)

    def make(self, prefix: str, length: int) -> str:
        digest = hashlib.sha256(f"{prefix}{next(self._seq)}".encode()).digest()
        while len(digest) < length:
            digest += hashlib.sha256(digest).digest()
        return prefix + "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:length])

    def chat_completion(self) -> str:
        return self.make("chatcmpl-", 29)

    def openai_call(self) -> str:
        return self.make("call_", 24)

    def anthropic_message(self) -> str:
        return self.make("msg_01", 22)

    def anthropic_tool_use(self) -> str:
        return self.make("toolu_01", 22)

    def request(self) -> str:
        return self.make("req_", 24)
