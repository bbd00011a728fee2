"""Time to recover after a remote member's server dies and is restarted.

A `llama_cpp.server` serves the model to an `openai` member. The benchmark kills it (SIGKILL)
and restarts it after --down seconds, as a supervisor would, while codequorum keeps sending
one request every --interval seconds. It prints when the server accepted connections again
and when the first good completion came back through codequorum, with the member's retry
and circuit settings.

    .venv/bin/python benchmarks/member_recovery.py [--down 10] [--cooldown 30] [--failures 5] [--retries 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _provenance import print_provenance  # benchmarks/, next to this script
from backend_overhead import _free_port, _spawn_server, _start_server, _wait_ready

from codequorum.config import Settings, settings_from_dict
from codequorum.core.engine import Engine
from codequorum.vocabulary.request import Budget, Request, TaskKind


def main() -> None:
    args = _parse()
    print_provenance()
    asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> None:
    port = _free_port()
    engine = Engine(_settings(args, port))
    model = engine.runtime.models.verified_path(args.model)
    server = _start_server(model, port)
    try:
        first = await engine.run(_request(), strategy="single", members=["remote"])
        if not first.text.strip():
            sys.exit(f"no completion from the running server: {first.trace.calls[0].error}")
        killed = time.monotonic()
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        restart = asyncio.create_task(_restart(model, port, args.down, killed))
        recovered, requests, skipped, took = await _until_good(engine, killed, args.interval)
        server, ready_s = await restart
    finally:
        server.kill()
        server.wait()
        await engine.aclose()
    print(f"settings: retries={args.retries}, circuit_failures={args.failures}, "
          f"circuit_cooldown_s={args.cooldown}, one request every {args.interval}s, "
          f"server down for {args.down}s before its restart")
    print(f"server accepting connections again {ready_s:.1f}s after the kill")
    print(f"first good completion through codequorum {recovered:.1f}s after the kill: its request "
          f"was sent {recovered - took:.1f}s after the kill and took {took:.1f}s")
    print(f"{requests} requests in all, {skipped} skipped at once by the open circuit")


def _settings(args: argparse.Namespace, port: int) -> Settings:
    remote = {"backend": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "model": args.model,
              "retries": args.retries, "circuit_failures": args.failures,
              "circuit_cooldown_s": args.cooldown}
    return settings_from_dict({
        "include_default_members": False, "members": {"remote": remote},
        "plugins": {"disabled": ["checks.tests", "checks.syntax"]}, "ranking": {"listwise": False},
    }, source="benchmark")


async def _restart(
    model: Path, port: int, down_s: float, since: float
) -> tuple[subprocess.Popen[bytes], float]:
    """Start the server again after `down_s` seconds, as a supervisor would."""
    await asyncio.sleep(down_s)
    server = _spawn_server(model, port)
    await asyncio.to_thread(_wait_ready, server, port)
    return server, time.monotonic() - since


async def _until_good(engine: Engine, since: float, interval: float) -> tuple[float, int, int, float]:
    requests = skipped = 0
    while True:
        requests += 1
        started = time.monotonic()
        result = await engine.run(_request(), strategy="single", members=["remote"])
        if result.text.strip():
            return time.monotonic() - since, requests, skipped, time.monotonic() - started
        skipped += any("circuit open" in (c.error or "") for c in result.trace.calls)
        await asyncio.sleep(interval)


def _request() -> Request:
    return Request(TaskKind.GENERATE, language="python", instruction="Write add(a, b) in Python.",
                   max_tokens=8, budget=Budget(deadline_s=60))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2-135m", help="embedded model id")
    parser.add_argument("--cooldown", type=float, default=30.0, help="circuit_cooldown_s")
    parser.add_argument("--failures", type=int, default=5, help="circuit_failures")
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between requests")
    parser.add_argument("--down", type=float, default=0.0, help="seconds before the restart")
    return parser.parse_args()


if __name__ == "__main__":
    main()
