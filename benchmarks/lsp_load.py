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
import itertools
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
from pygls.exceptions import JsonRpcRequestCancelled
from pygls.lsp.client import LanguageClient

from _lsp_typist import edit, inline_params, percentile, rss_mb  # benchmarks/, next to this script

ROOT = Path(__file__).resolve().parents[1]
CODEQUORUM = str(Path(sys.executable).with_name("codequorum"))
FILES = ["src/codequorum/core/engine.py", "src/codequorum/core/context.py",
         "src/codequorum/config.py", "src/codequorum/models/store.py",
         "src/codequorum/server/completion_service.py"]
_ids = itertools.count()


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
    version = 0
    pending: tuple[asyncio.Task[None], str] | None = None
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        row = rng.randrange(len(lines))
        code = lines[row].strip()
        indent = len(lines[row]) - len(code)
        if not code:
            continue
        version += 1  # the line is retyped: clear it first
        edit(client, uri, version, row, 0, len(lines[row]), " " * indent)
        for typed in range(1, min(len(code), 12) + 1):
            if time.monotonic() >= deadline:
                break
            version += 1
            edit(client, uri, version, row, indent + typed - 1, indent + typed - 1, code[typed - 1])
            if pending is not None and not pending[0].done():
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=pending[1]))
            msg_id = f"load-{next(_ids)}"
            pending = (asyncio.ensure_future(_ask(client, uri, row, indent + typed, msg_id, tally)), msg_id)
            await asyncio.sleep(args.keystroke_ms / 1000)
        await asyncio.sleep(rng.uniform(*args.pause))  # reading the suggestion
        version += 1
        edit(client, uri, version, row, 0, indent + min(len(code), 12), lines[row][:indent] + code)
    if pending is not None:
        await asyncio.wait({pending[0]})
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def _ask(client: LanguageClient, uri: str, row: int, character: int, msg_id: str,
               tally: Tally) -> None:
    params = inline_params(uri, row, character)
    tally.sent += 1
    started = time.monotonic()
    try:
        result = await client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)
    except JsonRpcRequestCancelled:
        tally.cancelled += 1
        return
    except Exception as error:  # anything else is a failure of the server
        tally.errors.append(f"{type(error).__name__}: {error}")
        return
    tally.latencies.append(time.monotonic() - started)
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    tally.with_items += bool(items)


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
