"""Inline-completion latency through the real language server, single cheap member vs ensemble.

Two `codequorum serve` processes run side by side, one per configuration, and take turns
place by place (never at once; a server's background work is over before the other's turn), so
both see the same machine load:

  single    `[server] inline_strategy = "single"`, `inline_members = ["qwen-small"]`
  ensemble  the defaults: every enabled default member, `[engine] strategy`, `[server]` defaults

Places are lines inside function bodies of real source files: the line's code is removed and
the cursor put where it started ("first" request: a new place, nothing cached), then its real
first characters are typed in steps ("typing" requests: same document, a few characters
later), `--pause` seconds after each answer (the user reading it, then typing). A typed-through
cache hit happens only when a model had predicted those characters.

Latency is the client-side time from request to response. Time to first suggestion (TTFS) is,
per place, the time spent in requests until one returned a suggestion.

    .venv/bin/python benchmarks/lsp_latency.py [--places 8] [--steps 2] [--chars 3] [--pause S]
                                               [--deadline S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
CODEQUORUM = str(Path(sys.executable).with_name("codequorum"))
FILES = ["src/codequorum/core/engine.py", "src/codequorum/core/context.py",
         "src/codequorum/config.py", "src/codequorum/models/store.py"]
CONFIGS = {
    "single": '[server]\ninline_strategy = "single"\ninline_members = ["qwen-small"]\nfeedback = false\n',
    "ensemble": "[server]\nfeedback = false\n",
}


@dataclass(frozen=True)
class Place:
    path: Path
    line: int  # 0-based
    indent: int
    code: str  # what the user is about to type on that line

    def text(self, typed: str) -> str:
        lines = self.path.read_text().split("\n")
        lines[self.line] = " " * self.indent + typed
        return "\n".join(lines)


@dataclass
class Sample:
    config: str
    phase: str  # "first" or "typing"
    seconds: float
    answered: bool
    member: str | None


@dataclass
class Server:
    name: str
    client: LanguageClient
    drain: asyncio.Task[None]
    samples: list[Sample] = field(default_factory=list)


def places(count: int) -> list[Place]:
    """Lines of code inside function bodies, spread evenly over the files."""
    found = []
    for name in FILES:
        lines = (ROOT / name).read_text().split("\n")
        for number, line in enumerate(lines):
            code = line.strip()
            indent = len(line) - len(code)
            if indent >= 8 and len(code) >= 16 and not code.startswith(("#", '"', "'", ")", "]", "}")):
                found.append(Place(ROOT / name, number, indent, code))
    step = max(1, len(found) // count)
    return found[::step][:count]


async def start(name: str, config: Path) -> Server:
    client = LanguageClient("lsp-latency", "1")
    await client.start_io(CODEQUORUM, "serve", "--stdio", "--config", str(config))
    drain = asyncio.create_task(_drain(client._server.stderr))  # a full stderr pipe would block the server
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    return Server(name, client, drain)


async def _drain(stream: asyncio.StreamReader | None) -> None:
    while stream is not None and await stream.readline():
        pass


async def stats(server: Server) -> dict:
    return await server.client.workspace_execute_command_async(types.ExecuteCommandParams("codequorum.stats"))


async def wait_for_warm_up(server: Server) -> float:
    while (seconds := (await stats(server))["warm_up_seconds"]) is None:
        await asyncio.sleep(0.2)
    return seconds


async def ask(server: Server, uri: str, line: int, character: int, phase: str) -> Sample:
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character))
    started = time.monotonic()
    result = await server.client.text_document_inline_completion_async(params)
    seconds = time.monotonic() - started
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    member = items[0].command.title.split(": ", 1)[1] if items and items[0].command else None
    sample = Sample(server.name, phase, seconds, bool(items), member)
    server.samples.append(sample)
    return sample


async def run_place(server: Server, place: Place, index: int, args: argparse.Namespace) -> None:
    """One user at one place: a first request, then typing steps with a pause before each."""
    uri = f"file:///bench/{index}/{place.path.name}"
    server.client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "python", 0, place.text(""))))
    for step in range(args.steps + 1):
        typed = place.code[: step * args.chars]
        if step:
            await asyncio.sleep(args.pause)
            previous = place.code[: (step - 1) * args.chars]
            where = types.Position(place.line, place.indent + len(previous))
            change = types.TextDocumentContentChangePartial(types.Range(where, where), typed[len(previous):])
            server.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(step, uri), [change]))
        await ask(server, uri, place.line, place.indent + len(typed), "first" if step == 0 else "typing")
    await wait_until_idle(server)


async def wait_until_idle(server: Server) -> None:
    """Until the server's background refinements are over: the other server's turn must not
    share the CPU with them."""
    while (await stats(server))["refining"]:
        await asyncio.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ttfs(samples: list[Sample], steps: int) -> list[float]:
    """Per place: seconds spent in requests until the first suggestion (places never answered
    are left out and counted separately)."""
    out = []
    for start in range(0, len(samples), steps + 1):
        spent = 0.0
        for sample in samples[start:start + steps + 1]:
            spent += sample.seconds
            if sample.answered:
                out.append(spent)
                break
    return out


def report(servers: dict[str, Server], steps: int) -> None:
    figures: dict[tuple[str, str], float] = {}
    print(f"\n{'config':9} {'phase':7} {'n':>3} {'answered':>8} {'p50 s':>7} {'p95 s':>7} {'TTFS p50':>9}")
    for name, server in servers.items():
        first_ttfs = ttfs(server.samples, steps)
        for phase in ("first", "typing", "all"):
            chosen = [s for s in server.samples if phase == "all" or s.phase == phase]
            seconds = [s.seconds for s in chosen]
            figures[(name, f"p50 {phase}")] = statistics.median(seconds)
            figures[(name, f"p95 {phase}")] = percentile(seconds, 0.95)
            answered = sum(s.answered for s in chosen) / len(chosen)
            ttfs_text = f"{statistics.median(first_ttfs):9.2f}" if phase == "all" and first_ttfs else " " * 9
            print(f"{name:9} {phase:7} {len(chosen):3d} {answered:8.0%} {statistics.median(seconds):7.2f} "
                  f"{percentile(seconds, 0.95):7.2f} {ttfs_text}")
        figures[(name, "TTFS p50")] = statistics.median(first_ttfs) if first_ttfs else float("nan")
        members = [s.member for s in server.samples if s.member]
        shares = ", ".join(f"{m} {members.count(m) / len(members):.0%}" for m in sorted(set(members)))
        print(f"          best suggestion from: {shares or 'none'}; "
              f"places never answered: {len(server.samples) // (steps + 1) - len(first_ttfs)}")
    print("\nratios ensemble / single (same run):")
    for metric in ("p50 first", "p50 typing", "p50 all", "p95 all", "TTFS p50"):
        single = figures[("single", metric)]
        ratio = f"{figures[('ensemble', metric)] / single:.2f}x" if single else "n/a (single: 0 s, cache)"
        print(f"  {metric:10} {ratio}")


async def main() -> None:
    args = parse()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu_name()}, "
          f"Python {platform.python_version()}")
    print(f"# load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        servers = {}
        for name, config in CONFIGS.items():
            path = Path(folder) / f"{name}.toml"
            path.write_text(config + (f"inline_deadline_s = {args.deadline}\n" if args.deadline else ""))
            servers[name] = await start(name, path)
        for server in servers.values():
            print(f"# {server.name}: models loaded in {await wait_for_warm_up(server):.1f}s")
        chosen = places(args.places)
        print(f"# {len(chosen)} places in {', '.join(sorted({p.path.name for p in chosen}))}; "
              f"{args.steps} typing steps of {args.chars} characters each")
        turns = list(servers.values())
        for index, place in enumerate(chosen):
            for server in turns:
                await run_place(server, place, index, args)
            turns.reverse()  # alternate who goes first
        for server in servers.values():
            counts = await stats(server)
            print(f"# {server.name}: {counts['cache_hits']} cache hits ({counts['typed_through_hits']} "
                  f"typed-through); settled {counts['settled']} runs; refinements "
                  f"{counts['refinements']} started, {counts['refinements_done']} done "
                  f"({counts['refinements_changed']} changed the best), {counts['refinements_stopped']} stopped")
            await server.client.shutdown_async(None)
            server.client.exit(None)
            await server.client.stop()
            server.drain.cancel()
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    report(servers, args.steps)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--places", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2, help="typing steps after the first request")
    parser.add_argument("--chars", type=int, default=3, help="characters typed per step")
    parser.add_argument("--pause", type=float, default=0.5,
                        help="seconds between an answer and the next typing step")
    parser.add_argument("--deadline", type=float,
                        help="[server] inline_deadline_s for both (default: the default)")
    return parser.parse_args()


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    asyncio.run(main())
