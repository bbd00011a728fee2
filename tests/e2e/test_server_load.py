"""The team server under a small load, and its warm-up as an editor and a load balancer see it:
a real `codequorum serve --tcp` with named tokens and the metrics endpoint, in front of the load
benchmark's fake OpenAI-compatible member (benchmarks/server_load.py) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def load_benchmark():
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.append(str(ROOT / "benchmarks"))  # its helpers sit next to it
    spec = importlib.util.spec_from_file_location("server_load", ROOT / "benchmarks" / "server_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_load"] = module
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


def test_a_few_editors_typing_get_every_request_answered_without_errors():
    args = bench.parse(["--editors", "6", "--seconds", "4", "--keystroke-ms", "120",
                        "--member-delay-ms", "20", "--pause", "0.2", "0.5"])
    report = asyncio.run(bench.run(args))
    tally = report.tally
    assert tally.errors == [] and tally.refused == 0, report.lines()
    assert report.server_alive and report.health["state"] == "ready"
    assert tally.sent == tally.answered + tally.cancelled  # nothing left unanswered
    assert len(tally.latencies) >= 6, report.lines()  # every editor got suggestions
    assert report.member_requests >= len(tally.latencies)
    assert all(overhead > -0.005 for overhead in report.overheads())  # a real member call each


async def warm_up_scenario(folder: Path) -> tuple[list[dict], list[dict], float]:
    member = bench.MemberProcess(delay_s=1.5)  # the warm-up's first call takes this long
    port = await member.start()
    args = bench.parse(["--editors", "1"])
    config, tokens_file, tokens = bench.write_setup(folder, port, 1, args)
    server = await bench.start_server(config, tokens_file)
    try:
        before = json.loads(await bench.http_get(server.metrics_port, "/healthz"))
        statuses: list[dict] = []
        started = time.monotonic()
        client = await bench.connect(server.port, tokens[0], statuses)
        health = []
        while not any(s.get("state") == "ready" for s in statuses) and time.monotonic() - started < 30:
            health.append(json.loads(await bench.http_get(server.metrics_port, "/healthz"))["state"])
            await asyncio.sleep(0.1)
        took = time.monotonic() - started
        health.append(json.loads(await bench.http_get(server.metrics_port, "/healthz"))["state"])
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    finally:
        server.process.terminate()
        await server.process.wait()
        await member.stop()
    return [before], statuses, took, health  # type: ignore[return-value]


def test_editors_and_the_health_endpoint_see_the_warm_up():
    with tempfile.TemporaryDirectory() as tmp:
        [before], statuses, took, health = asyncio.run(warm_up_scenario(Path(tmp)))
    assert before["state"] == "starting"  # listening; nothing loads before the first client
    assert [s["state"] for s in statuses] == ["loading", "ready"], statuses
    assert statuses[1]["seconds"] >= 1.4 and took >= 1.4
    assert health[0] == "loading" and health[-1] == "ready", health
