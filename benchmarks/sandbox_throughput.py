"""Test checks throughput: many candidates x many asserts in one bubblewrap start.

    .venv/bin/python benchmarks/sandbox_throughput.py [--candidates 20] [--tests 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time

from codequorum.sandbox import Sandbox, SandboxLimits
from codequorum.testing.python_runner import PYTHON, run_suite
from codequorum.testing.python_tests import suite_from_text


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    print(f"# command: python {' '.join(sys.argv)}")
    programs = [f"def add(a, b):\n    return a + b + {i % 2}\n" for i in range(args.candidates)]
    suite = suite_from_text("\n".join(f"assert add({i}, 1) == {i + 1}" for i in range(args.tests)))
    limits = SandboxLimits()
    start = [await _timed(Sandbox(limits).run_async([PYTHON, "-c", "pass"])) for _ in range(args.runs)]
    runs = [await _timed(run_suite(programs, suite, limits, per_candidate_s=5.0)) for _ in range(args.runs)]
    seconds = statistics.median(runs)
    total = args.candidates * args.tests
    print(f"sandbox start + python -c pass: median {statistics.median(start) * 1000:.0f} ms")
    print(f"{args.candidates} candidates x {args.tests} tests in one start: median {seconds:.2f} s "
          f"= {total / seconds:.0f} tests/s, {seconds / args.candidates * 1000:.0f} ms per candidate")


async def _timed(awaitable) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    await awaitable
    return time.monotonic() - started


if __name__ == "__main__":
    asyncio.run(main())
