#!/usr/bin/env python3
"""Benchmark Byway beside the minimal Python proxy and LiteLLM with shared/bench/bench.py.

Writes a gateway config whose OpenAI provider points at bench.py's upstream, then
runs bench.py with Byway as a target. Usage:

    .venv/bin/python scripts/bench.py [--with direct,minimal,litellm] [--seconds 10] [--no-stream] [--route]
                                      [--master]

By default every request goes the way a member's does, with everything on: a gateway key whose user and
key both have requests- and tokens-per-minute limits and monthly budgets, a provider with its own limits,
budget and prices, and every request metered into the usage ledger. ``--master`` sends the master key
instead (no per-user limits or budgets; the ledger still records).

Needs nginx and wrk (bench.py installs them with apt-get when run as root) and,
for the `minimal` target, orjson in this Python (installed here when missing).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASTER_KEY = "byw-master-bench-0123456789abcdef"


def find_bench() -> Path:
    for candidate in (os.environ.get("BYWAY_BENCH"), ROOT.parent / "shared" / "bench" / "bench.py"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    sys.exit("scripts/bench.py: cannot find shared/bench/bench.py (set BYWAY_BENCH)")


# Limits and budgets far above what a benchmark run reaches: checked on every request, never refusing.
LIMITS = ("    rpm_limit: 100000000\n    tpm_limit: 1000000000000\n    monthly_budget: 1000000\n"
          "    prices: {gpt-4o-mini: {input: 0.15, output: 0.60, cached_input: 0.075}}\n")


def member_key(byway: Path, config: Path, work: Path) -> str:
    """A member's gateway key with every limit and budget set, made in the benchmark's data directory."""
    env = {**os.environ, "BYWAY_MASTER_KEY": MASTER_KEY, "BYWAY_DATA_DIR": f"{work}/data",
           "BYWAY_BENCH_UPSTREAM": "http://127.0.0.1:9/v1"}
    common = ["--config", str(config), "--monthly-budget", "1000000", "--rpm-limit", "100000000",
              "--tpm-limit", "1000000000000"]
    subprocess.run([str(byway), "users", "create", "--email", "bench@example.com", *common], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    made = subprocess.run([str(byway), "keys", "create", "--name", "bench", "--user", "bench@example.com", *common],
                          env=env, check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--with", dest="builtins", default="direct,minimal,litellm")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", default="1,32")
    ap.add_argument("--no-stream", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench-result.json"))
    ap.add_argument("--route", action="store_true",
                    help="ask a two-target fallback route (model 'smart') instead of oa:gpt-4o-mini")
    ap.add_argument("--master", action="store_true", help="authenticate with the master key (no user limits)")
    args = ap.parse_args()

    if importlib.util.find_spec("orjson") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "orjson"], check=True)
    work = Path(tempfile.mkdtemp(prefix="byway-bench-"))
    config = work / "byway.yaml"
    config.write_text(
        "providers:\n"
        "  - name: oa\n"
        "    type: openai\n"
        "    api_key: sk-bench\n"
        "    base_url: env:BYWAY_BENCH_UPSTREAM\n"
        "    models: [gpt-4o-mini]\n"
        f"{LIMITS}"
        "  - name: backup\n"
        "    type: openai\n"
        "    api_key: sk-bench\n"
        "    base_url: env:BYWAY_BENCH_UPSTREAM\n"
        f"{LIMITS}"
        "routes:\n"
        "  - {name: smart, mode: fallback, retries: 1, targets: [oa:gpt-4o-mini, backup:gpt-4o-mini]}\n"
    )
    model = "smart" if args.route else "oa:gpt-4o-mini"
    byway = Path(sys.executable).parent / "byway"
    key = MASTER_KEY if args.master else member_key(byway, config, work)
    command = (f"env BYWAY_BENCH_UPSTREAM={{upstream}} BYWAY_MASTER_KEY={MASTER_KEY} BYWAY_DATA_DIR={work}/data "
               f"{byway} serve --config {config} --port {{port}}")
    cmd = [sys.executable, str(find_bench()), "--with", args.builtins, "--target", f"byway={command}",
           "--auth", f"Bearer {key}", "--model", model, "--seconds", str(args.seconds),
           "--conns", args.conns, "--out", args.out]
    if not args.no_stream:
        cmd.append("--stream")
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
