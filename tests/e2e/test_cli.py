"""The byway command: chat streams an answer and reports its cost; serve refuses a bad config in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from byway.mock import MockServer


def byway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run([sys.executable, "-m", "byway.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**clean, "COLUMNS": "200", **(env or {})})


def test_chat_streams_then_reports_tokens_and_cost(tmp_path: Path, mock: MockServer):
    config = tmp_path / "byway.yaml"
    config.write_text(f"providers:\n  - name: oa\n    type: openai\n    api_key: sk-x\n"
                      f"    base_url: {mock.url}/openai/v1\n    models: [gpt-4o-mini]\n")
    done = byway("chat", "-m", "oa:gpt-4o-mini", "--config", str(config), "Hello CLI")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: Hello CLI\n"
    # 9 prompt tokens at $0.15/M + 4 answer tokens at $0.60/M
    assert "tokens 10 in / 4 out" in done.stderr and "cost $0.0000039" in done.stderr


def test_chat_reports_errors_without_traceback(tmp_path: Path, mock: MockServer):
    config = tmp_path / "byway.yaml"
    config.write_text(f"providers:\n  - name: oa\n    type: openai\n    api_key: sk-x\n"
                      f"    base_url: {mock.url}/fault/status=500/openai/v1\n")
    done = byway("chat", "-m", "oa:gpt-4o-mini", "--config", str(config), "Hi")
    assert done.returncode == 1
    assert "error 502" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_a_bad_config_in_one_line(tmp_path: Path):
    config = tmp_path / "byway.yaml"
    config.write_text("providers:\n  - name: oa\n    type: openai\n    timeout: soon\n")
    done = byway("serve", "--config", str(config), "--port", "1", env={"BYWAY_DATA_DIR": str(tmp_path / "d")})
    assert done.returncode == 2
    assert done.stderr.strip() == "config error: providers[0].timeout: expected `float`, got `str`"
