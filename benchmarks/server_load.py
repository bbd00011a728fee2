"""Load on the server itself: N editors typing at once against one `codequorum serve --tcp`,
in front of a fast fake OpenAI-compatible member on loopback, so that no model is the bottleneck.

The fake member answers `/v1/completions` (streamed, as vLLM does) after `--member-delay-ms`.
The server runs as a user would start it (`codequorum serve --tcp 127.0.0.1:0 --tokens-file F
--metrics 127.0.0.1:0`), each editor with a token of its own. Each editor is a real LSP client
over TCP (pygls): initialize, didOpen, then for `--seconds` it types lines character by
character (one keystroke every `--keystroke-ms`, a pause between lines), sends didChange and an
inline completion per keystroke, and cancels the previous request with `$/cancelRequest`, as
VS Code does. The server's cache and debounce are off by default, so that every request that is
answered reached the member once and `latency − member delay` is the server's own overhead
(prompt, postprocessing, ranking, the protocol).

Reported: requests sent, answered (with a suggestion / empty: superseded by the next
keystroke), cancelled, errors (anything but RequestCancelled: must be 0), requests answered per
second, latency and overhead p50/p99 of the answered requests with a suggestion, the member's
request count, the server's RSS before and after, the load average and the command.

    .venv/bin/python benchmarks/server_load.py [--editors 50] [--seconds 30] [--keystroke-ms 150]
        [--member-delay-ms 50] [--debounce-ms 0] [--cache-size 0] [--pause MIN MAX]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from _lsp_typist import Typing, ask_inline, percentile, rss_mb, type_lines  # benchmarks/, next to this script

CODEQUORUM = str(Path(sys.executable).with_name("codequorum"))
MAX_REQUEST_BYTES = 1 << 20
SOURCE = '''import json
from dataclasses import dataclass


@dataclass
class Order:
    id: int
    items: list[str]
    total: float

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "items": self.items, "total": self.total})


def parse_orders(text: str) -> list[Order]:
    orders = []
    for row in json.loads(text):
        orders.append(Order(row["id"], list(row["items"]), float(row["total"])))
    return orders


def total_of(orders: list[Order]) -> float:
    return sum(order.total for order in orders)
'''


# ---- the fake member ------------------------------------------------------------------------

@dataclass
class FakeMember:
    """An OpenAI-compatible server on 127.0.0.1 answering every completion after `delay_s`."""

    delay_s: float
    requests: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: the server's HTTP client reuses connections
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1)) \
                    if b"ontent-" in head else 0
                body = json.loads(await reader.readexactly(min(length, MAX_REQUEST_BYTES)) or b"{}")
                if head.startswith(b"POST"):
                    self.requests += 1
                    await asyncio.sleep(self.delay_s)
                writer.write(self._answer(head, body))
                await writer.drain()
                if b"connection: close" in head.lower():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _answer(self, head: bytes, body: dict[str, object]) -> bytes:
        if head.startswith(b"GET /stats"):
            payload, kind = json.dumps({"requests": self.requests}).encode(), b"application/json"
        elif not head.startswith(b"POST"):
            payload, kind = b'{"object": "list", "data": []}', b"application/json"
        else:
            text = "sum(order.total for order in orders)\n"
            events = [{"choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                      for piece in (text[:12], text[12:])]
            events[-1]["choices"][0]["finish_reason"] = "stop"  # type: ignore[index]
            payload = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"
            kind = b"text/event-stream"
        return (b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: " +
                str(len(payload)).encode() + b"\r\nConnection: keep-alive\r\n\r\n" + payload)


class MemberProcess:
    """The fake member in a process of its own, so that the editors' CPU never delays it."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--as-member", str(self.delay_s), stdout=asyncio.subprocess.PIPE)
        assert self.process.stdout is not None
        line = (await self.process.stdout.readline()).decode()
        if not line.startswith("PORT "):
            raise SystemExit(f"the fake member did not start: {line!r}")
        self.port = int(line.split()[1])
        return self.port

    async def requests(self) -> int:
        return int(json.loads(await http_get(self.port, "/stats"))["requests"])

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


async def serve_member(delay_s: float) -> None:
    member = FakeMember(delay_s)
    print(f"PORT {await member.start()}", flush=True)
    await asyncio.Event().wait()


# ---- the server under load --------------------------------------------------------------------

@dataclass
class Server:
    process: asyncio.subprocess.Process
    port: int
    metrics_port: int
    log: list[str] = field(default_factory=list)  # the server's stderr, its last lines


def write_setup(folder: Path, member_port: int, editors: int, args: argparse.Namespace) -> tuple[Path, Path, list[str]]:
    tokens = [secrets.token_urlsafe(24) for _ in range(editors)]
    tokens_file = folder / "tokens"
    tokens_file.write_text("".join(f"editor{i} = {token}\n" for i, token in enumerate(tokens)))
    tokens_file.chmod(0o600)
    config = folder / "codequorum.toml"
    config.write_text(
        "include_default_members = false\n\n"
        "[members.fake]\n"
        f'backend = "openai"\nbase_url = "http://127.0.0.1:{member_port}/v1"\nmodel = "fake"\n'
        'fim = "qwen"\nread_timeout_s = 30.0\n\n'
        "[server]\n"
        f'inline_strategy = "single"\ndebounce_ms = {args.debounce_ms}\ncache_size = {args.cache_size}\n'
        "feedback = false\nmax_connections = 256\nmax_unauthenticated = 64\n")
    return config, tokens_file, tokens


async def start_server(config: Path, tokens_file: Path) -> Server:
    args = [CODEQUORUM, "serve", "--tcp", "127.0.0.1:0", "--tokens-file", str(tokens_file),
            "--metrics", "127.0.0.1:0", "--config", str(config)]
    process = await asyncio.create_subprocess_exec(*args, stderr=asyncio.subprocess.PIPE,
                                                   stdout=asyncio.subprocess.DEVNULL)
    assert process.stderr is not None
    ports: dict[str, int] = {}
    while len(ports) < 2 and (line := (await process.stderr.readline()).decode()):
        if match := re.search(r"serving (LSP|health and metrics) on \w+://[^ ]+:(\d+)", line):
            ports[match.group(1)] = int(match.group(2))
    if len(ports) < 2:
        raise SystemExit(f"the server exited ({await process.wait()}) without announcing its ports")
    server = Server(process, ports["LSP"], ports["health and metrics"])
    asyncio.create_task(_drain(process.stderr, server.log))
    return server


async def _drain(stream: asyncio.StreamReader, log: list[str]) -> None:
    while line := await stream.readline():
        log.append(line.decode(errors="replace"))
        del log[:-40]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def http_get(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return data.decode().split("\r\n\r\n", 1)[1]


# ---- the editors ----------------------------------------------------------------------------

@dataclass
class Tally:
    sent: int = 0
    cancelled: int = 0
    empty: int = 0
    refused: int = 0  # over the user's rate limits (-32803): the server protecting itself
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # answered with a suggestion

    @property
    def answered(self) -> int:
        return len(self.latencies) + self.empty + self.refused


async def connect(port: int, token: str, statuses: list[dict[str, object]] | None = None) -> LanguageClient:
    """An initialized client; the server's `codequorum/status` notifications go to `statuses`."""
    client = LanguageClient("server-load", "1")
    heard = statuses if statuses is not None else []
    client.feature("codequorum/status")(lambda params: heard.append(_plain(params)))
    await client.start_tcp("127.0.0.1", port)
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options={"token": token}))
    client.initialized(types.InitializedParams())
    return client


async def editor(index: int, port: int, token: str, args: argparse.Namespace, tally: Tally) -> None:
    """One editor: retypes lines of its file, asking after each keystroke, cancelling the last."""
    rng = random.Random(index)
    client = await connect(port, token)
    text = f"# orders of shop {index}\n{SOURCE}"  # each editor's own file: prompts never coincide
    lines = text.split("\n")
    uri = f"file:///load/editor{index}/orders.py"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "python", 0, text)))
    typing = Typing(args.seconds, args.keystroke_ms, tuple(args.pause), chars_per_line=16)
    await type_lines(client, uri, lines, rng, typing,
                     lambda row, character, msg_id: _ask(client, uri, row, character, msg_id, tally))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


def _plain(params: object) -> dict[str, object]:
    """A notification's params (pygls makes a named tuple of an unknown method's) as a dict."""
    if hasattr(params, "_asdict"):
        return dict(params._asdict())
    return dict(params) if isinstance(params, dict) else {"value": params}


async def _ask(client: LanguageClient, uri: str, row: int, character: int, msg_id: str,
               tally: Tally) -> None:
    tally.sent += 1
    asked = await ask_inline(client, uri, row, character, msg_id)
    if asked.outcome == "items":
        tally.latencies.append(asked.seconds)
    elif asked.outcome == "empty":
        tally.empty += 1
    elif asked.outcome == "cancelled":
        tally.cancelled += 1
    elif asked.outcome == "refused":
        tally.refused += 1
    else:
        tally.errors.append(asked.error)


# ---- the run --------------------------------------------------------------------------------

@dataclass
class Report:
    editors: int
    wall_s: float
    tally: Tally
    member_requests: int
    member_delay_s: float
    rss_before_mb: float
    rss_after_mb: float
    server_alive: bool
    server_cpu_s: float
    editors_cpu_s: float  # this process: the editors (and their pygls clients)
    server_inline: dict[str, float]  # the server's own view, from /metrics
    health: dict[str, object]
    server_log: list[str] = field(default_factory=list)

    def overheads(self) -> list[float]:
        return [latency - self.member_delay_s for latency in self.tally.latencies]

    def lines(self) -> list[str]:
        t = self.tally
        out = [f"{self.editors} editors for {self.wall_s:.0f} s: {t.sent} requests, {t.answered} answered "
               f"({len(t.latencies)} with a suggestion, {t.empty} empty, {t.refused} refused by the rate "
               f"limits), {t.cancelled} cancelled, {len(t.errors)} errors; the member got "
               f"{self.member_requests} requests; "
               f"server alive: {self.server_alive}, health {self.health.get('state')}",
               f"throughput: {t.sent / self.wall_s:.1f} requests/s sent, {t.answered / self.wall_s:.1f} "
               "answered/s"]
        if t.latencies:
            overhead = self.overheads()
            out.append(f"latency with a suggestion: p50 {statistics.median(t.latencies) * 1000:.1f} ms, "
                       f"p99 {percentile(t.latencies, 0.99) * 1000:.1f} ms; server overhead (latency - "
                       f"{self.member_delay_s * 1000:.0f} ms member delay): p50 "
                       f"{statistics.median(overhead) * 1000:.1f} ms, p99 {percentile(overhead, 0.99) * 1000:.1f} ms")
        if self.server_inline:
            out.append("the server's own inline completion latency (/metrics histogram, answered ones): "
                       f"p50 <= {self.server_inline['p50'] * 1000:.0f} ms, p99 <= "
                       f"{self.server_inline['p99'] * 1000:.0f} ms over {self.server_inline['count']:.0f}")
        out.append(f"server CPU: {self.server_cpu_s:.1f} s over the run, {self.server_cpu_s / max(t.sent, 1) * 1000:.1f} ms "
                   f"per request sent ({self.server_cpu_s / self.wall_s * 100:.0f}% of one core); the editors' "
                   f"process: {self.editors_cpu_s / self.wall_s * 100:.0f}% of one core")
        out.append(f"server RSS: {self.rss_before_mb:.0f} MB before, {self.rss_after_mb:.0f} MB after "
                   f"({self.rss_after_mb - self.rss_before_mb:+.0f} MB)")
        out += [f"  error: {error}" for error in t.errors[:10]]
        if t.errors:
            out += ["the server's last log lines:", *(f"  {line.rstrip()}" for line in self.server_log[-20:])]
        return out


def histogram_quantiles(metrics: str, name: str) -> dict[str, float]:
    """p50 and p99 (the upper bound of their bucket) and the count of a histogram without labels."""
    buckets = [(float(bound), float(count)) for bound, count in
               re.findall(rf'^{name}_bucket{{le="([^"]+)"}} (\S+)$', metrics, re.MULTILINE)]
    total = buckets[-1][1] if buckets else 0.0
    if not total:
        return {}
    def quantile(q: float) -> float:
        return next(bound for bound, count in buckets if count >= q * total)
    return {"p50": quantile(0.5), "p99": quantile(0.99), "count": total}


async def run(args: argparse.Namespace) -> Report:
    member = MemberProcess(args.member_delay_ms / 1000)
    member_port = await member.start()
    with tempfile.TemporaryDirectory(prefix="codequorum-load-") as tmp:
        config, tokens_file, tokens = write_setup(Path(tmp), member_port, args.editors, args)
        server = await start_server(config, tokens_file)
        try:
            before, cpu_before = rss_mb(server.process.pid), cpu_seconds(server.process.pid)
            editors_before = time.process_time()
            tally = Tally()
            started = time.monotonic()
            await asyncio.gather(*(editor(i, server.port, tokens[i], args, tally) for i in range(args.editors)))
            wall = time.monotonic() - started
            after, cpu = rss_mb(server.process.pid), cpu_seconds(server.process.pid) - cpu_before
            editors_cpu = time.process_time() - editors_before
            inline = histogram_quantiles(await http_get(server.metrics_port, "/metrics"),
                                         "codequorum_inline_completion_duration_seconds")
            health = json.loads(await http_get(server.metrics_port, "/healthz"))
            alive = server.process.returncode is None
            member_requests = await member.requests()
        finally:
            server.process.terminate()
            await server.process.wait()
            await member.stop()
    return Report(args.editors, wall, tally, member_requests, member.delay_s, before, after, alive, cpu,
                  editors_cpu, inline, health, server.log)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--keystroke-ms", type=float, default=150.0)
    parser.add_argument("--member-delay-ms", type=float, default=50.0)
    parser.add_argument("--debounce-ms", type=int, default=0, help="[server] debounce_ms (default 0)")
    parser.add_argument("--cache-size", type=int, default=0, help="[server] cache_size (default 0: off)")
    parser.add_argument("--pause", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"),
                        help="seconds of reading after each line typed (uniform between MIN and MAX)")
    return parser.parse_args(argv)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--as-member":
        asyncio.run(serve_member(float(sys.argv[2])))
        return
    args = parse()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report = asyncio.run(run(args))
    for line in report.lines():
        print(line)
    print(f"# load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if report.tally.errors or not report.server_alive:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
