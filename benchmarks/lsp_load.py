"""Load: N editors typing at once against one `codequorum serve --tcp` with the real models.

Each client opens its own copy of a real source file and, for `--seconds`, types real lines
of it character by character (one keystroke every `--keystroke-ms`, a pause between lines),
asking for an inline completion after every keystroke and cancelling the previous request
with `$/cancelRequest`, as editors do. Reported: requests sent, answered (not cancelled),
cancelled, errors (anything else than RequestCancelled: must be 0), latency p50/p95 of the
answered ones, and the server's RSS before and after.

    .venv/bin/python benchmarks/lsp_load.py [--clients 20] [--seconds 60] [--keystroke-ms 150]
                                            [--pause MIN MAX] [--config FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from _lsp_typist import Typing, ask_inline, percentile, rss_mb, type_lines  # benchmarks/, next to this script

ROOT = Path(__file__).resolve().parents[1]
CODEQUORUM = str(Path(sys.executable).with_name("codequorum"))
FILES = ["src/codequorum/core/engine.py", "src/codequorum/core/context.py",
         "src/codequorum/config.py", "src/codequorum/models/store.py",
         "src/codequorum/server/completion_service.py"]


@dataclass
class Tally:
    sent: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # answered requests
    with_items: int = 0


async def start_server(config: Path | None) -> tuple[asyncio.subprocess.Process, int]:
    args = [CODEQUORUM, "serve", "--tcp", "127.0.0.1:0"] + (["--config", str(config)] if config else [])
    process = await asyncio.create_subprocess_exec(*args, stderr=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.DEVNULL)
    assert process.stderr is not None
    while line := (await process.stderr.readline()).decode():
        if match := re.search(r"serving LSP on \w+://[^ ]+:(\d+)", line):
            asyncio.create_task(_drain(process.stderr))
            return process, int(match.group(1))
    raise SystemExit(f"the server exited ({await process.wait()}) without announcing a port")


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def connect(port: int) -> LanguageClient:
    client = LanguageClient("lsp-load", "1")
    client.feature("codequorum/status")(lambda params: None)  # the server's status: not measured here
    await client.start_tcp("127.0.0.1", port)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    return client


async def typist(index: int, port: int, args: argparse.Namespace, tally: Tally) -> None:
    """One editor: types real lines of a real file, asking after each keystroke."""
    rng = random.Random(index)
    client = await connect(port)
    path = ROOT / FILES[index % len(FILES)]
    lines = path.read_text().split("\n")
    uri = f"file:///load/{index}/{path.name}"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "python", 0, path.read_text())))
    typing = Typing(args.seconds, args.keystroke_ms, tuple(args.pause), chars_per_line=12)
    await type_lines(client, uri, lines, rng, typing,
                     lambda row, character, msg_id: _ask(client, uri, row, character, msg_id, tally))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def _ask(client: LanguageClient, uri: str, row: int, character: int, msg_id: str,
               tally: Tally) -> None:
    tally.sent += 1
    asked = await ask_inline(client, uri, row, character, msg_id)
    if asked.outcome == "cancelled":
        tally.cancelled += 1
    elif asked.outcome in ("error", "refused"):
        tally.errors.append(asked.error)
    else:
        tally.latencies.append(asked.seconds)
        tally.with_items += asked.outcome == "items"


async def main() -> None:
    args = parse()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average at start {os.getloadavg()[0]:.2f}")
    process, port = await start_server(args.config)
    try:
        probe = await connect(port)  # wait until the models are loaded
        while (await probe.workspace_execute_command_async(
                types.ExecuteCommandParams("codequorum.stats")))["warm_up_seconds"] is None:
            await asyncio.sleep(0.2)
        before = rss_mb(process.pid)
        tally = Tally()
        started = time.monotonic()
        await asyncio.gather(*(typist(i, port, args, tally) for i in range(args.clients)))
        wall = time.monotonic() - started
        after = rss_mb(process.pid)
        alive = process.returncode is None
        await probe.shutdown_async(None)
        probe.exit(None)
        await probe.stop()
    finally:
        process.kill()
        await process.wait()
    answered = len(tally.latencies)
    print(f"{args.clients} clients for {wall:.0f} s: {tally.sent} requests, {answered} answered "
          f"({tally.with_items} with a suggestion), {tally.cancelled} cancelled, "
          f"{len(tally.errors)} errors; server alive: {alive}")
    if answered:
        print(f"latency of answered requests: p50 {statistics.median(tally.latencies):.2f} s, "
              f"p95 {percentile(tally.latencies, 0.95):.2f} s")
    print(f"server RSS: {before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB)")
    for error in tally.errors[:10]:
        print(f"  error: {error}")
    if tally.errors or not alive:
        raise SystemExit(1)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--keystroke-ms", type=float, default=150.0)
    parser.add_argument("--pause", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"),
                        help="seconds of reading after each line typed (uniform between MIN and MAX)")
    parser.add_argument("--config", type=Path, help="server configuration (default: the defaults)")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main())
