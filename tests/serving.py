"""Running a real ``byway serve`` process on a free loopback port for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(config: Path, work: Path, master_key: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``byway serve --config config`` with its data in ``work``; yield its URL once /health answers.
    Provider keys in the environment are hidden from it, so only the config's providers exist; ``env`` adds
    variables."""
    port = free_port()
    log = work / "serve.log"
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "HF_TOKEN"}
    env.update(BYWAY_MASTER_KEY=master_key, BYWAY_DATA_DIR=str(work / "data"), PYTHONUNBUFFERED="1", **extra)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "byway.cli", "serve", "--config", str(config),
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("byway serve did not start:\n" + log.read_text())
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
