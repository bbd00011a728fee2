"""`codequorum complete` wall time: single cheap member vs best-of over every member.

Runs the real CLI (a fresh process per run, so model loading is included, as a user sees it)
and, separately, measures each member's load time in process. Prints medians and the ratio.

    .venv/bin/python benchmarks/complete_latency.py [--runs 5] [--file examples/stats.py --line 6 --column 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from codequorum.config import load_settings
from codequorum.core.runtime import Runtime
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend

CLI = str(Path(sys.executable).with_name("codequorum"))


def main() -> None:
    args = _parse()
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    _load_times()
    where = ["complete", args.file, "--line", str(args.line), "--column", str(args.column),
             "--max-tokens", str(args.max_tokens), "--json"]
    single = _median_wall(where + ["--strategy", "single", "--member", "qwen-small"], args.runs)
    best_of = _median_wall(where + ["--strategy", "best-of"], args.runs)
    print(f"complete, single qwen-small: median {single:.2f}s over {args.runs} runs")
    print(f"complete, best-of (all members): median {best_of:.2f}s over {args.runs} runs")
    print(f"ratio best-of / single: {best_of / single:.2f}x")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--file", default="examples/stats.py")
    parser.add_argument("--line", type=int, default=6)
    parser.add_argument("--column", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    return parser.parse_args()


def _load_times() -> None:
    runtime = Runtime.create(load_settings())
    for member in runtime.settings.enabled_members():
        backend = LlamaCppBackend(member, runtime)
        backend.load()
        print(f"load {member.name}: {backend.load_seconds:.2f}s")


def _median_wall(arguments: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        done = subprocess.run([CLI, *arguments], capture_output=True, text=True)
        times.append(time.monotonic() - started)
        if done.returncode != 0:
            sys.exit(f"run failed: {done.stderr[-500:]}")
    return statistics.median(times)


if __name__ == "__main__":
    main()
