"""Fuzz the real `codequorum serve` over stdio with two rounds of 3000 malformed and hostile
messages, then check that it still answers a valid completion with the real model, and that its
memory does not keep growing (the second round adds next to nothing).

The messages are framed correctly (a lying Content-Length desynchronises any LSP stream for
good; that is the transport's contract, not something a server can recover from), but their
bodies are anything: broken JSON, JSON that is not JSON-RPC, wrong types for real methods,
positions out of range, unknown methods, huge documents, requests for unopened documents,
cancel storms, and edits racing completions.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.lsp_session import CODEQUORUM

pytestmark = pytest.mark.e2e

CONFIG = """
[server]
inline_strategy = "single"
inline_members = ["qwen-small"]
inline_deadline_s = 120
inline_wait_for_all = true
debounce_ms = 0
feedback = false
"""
MESSAGES = 3000
STATS_PY = ROOT / "examples" / "stats.py"
MEAN_BODY = {"line": 5, "character": 4}
MAX_RSS_GROWTH_MB = 150
MAX_SECOND_ROUND_GROWTH_MB = 40  # the first round warms the allocator's arenas and caches


class RawClient:
    """LSP over the server's stdio, byte by byte: nothing stops it from sending garbage."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.replies: dict[Any, dict[str, Any]] = {}
        self.messages_received = 0
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    def send_body(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.send_body(json.dumps({"jsonrpc": "2.0", **message}).encode())

    async def request(self, method: str, params: Any, id_: Any, timeout: float = 120) -> dict[str, Any]:
        self.send({"id": id_, "method": method, "params": params})
        assert self.process.stdin is not None
        await self.process.stdin.drain()
        async with asyncio.timeout(timeout):
            while id_ not in self.replies:
                self._arrived.clear()
                await self._arrived.wait()
        return self.replies[id_]

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers = await stream.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in headers.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            message = json.loads(await stream.readexactly(length))
            self.messages_received += 1
            if "id" in message and "method" not in message:
                self.replies[message["id"]] = message
            self._arrived.set()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def hostile_messages(rng: random.Random, count: int) -> Iterator[bytes]:
    """`count` message bodies, a mix of every kind of bad input."""
    uri = "file:///fuzz/doc.py"
    makers = [
        lambda: rng.randbytes(rng.randint(0, 300)),  # not even text
        lambda: b'{"jsonrpc": "2.0", "id": 1, "method": "textDocument/inlineCompletion", "params": {',
        lambda: b"\xff\xfe{\"jsonrpc\":\"2.0\"}",  # invalid UTF-8
        lambda: json.dumps(rng.choice([[], 42, "x", None, {"jsonrpc": "1.0"}, {"id": 7}])).encode(),
        lambda: _rpc(rng.randint(1, 10**9), "textDocument/inlineCompletion",
                     {"textDocument": {"uri": 5}, "position": "start", "context": []}),
        lambda: _rpc(rng.randint(1, 10**9), "textDocument/completion",
                     {"textDocument": {"uri": uri}, "position": {"line": rng.choice([-1, 10**9]),
                                                                  "character": rng.choice([-5, 10**12])}}),
        lambda: _rpc(rng.randint(1, 10**9), f"fuzz/{rng.randint(0, 10**6)}", {"x": 1}),
        lambda: _rpc(None, f"$/fuzz{rng.randint(0, 99)}", [1, 2, 3]),  # unknown notification
        lambda: _rpc(rng.randint(1, 10**9), "textDocument/inlineCompletion", {
            "textDocument": {"uri": f"file:///never/opened{rng.randint(0, 99)}.py"},
            "position": {"line": 0, "character": 0},
            "context": {"triggerKind": 2}}),
        lambda: _rpc(None, "$/cancelRequest", {"id": rng.choice([rng.randint(0, 10**9), "x", None, [], {}])}),
        lambda: _rpc(None, "textDocument/didChange", {
            "textDocument": {"uri": uri, "version": rng.randint(-5, 10**6)},
            "contentChanges": [{"range": {"start": {"line": rng.randint(-2, 50), "character": rng.randint(-2, 80)},
                                          "end": {"line": rng.randint(-2, 50), "character": rng.randint(-2, 80)}},
                                "text": rng.choice(["x", "\n", "", "def f(:\n", "é🙂"])}]}),
        lambda: _rpc(rng.randint(1, 10**9), "textDocument/inlineCompletion", {  # races the edits
            "textDocument": {"uri": uri}, "position": {"line": rng.randint(0, 30), "character": rng.randint(0, 40)},
            "context": {"triggerKind": 2}}),
        lambda: _rpc(rng.randint(1, 10**9), "workspace/executeCommand",
                     {"command": rng.choice(["codequorum.accept", "codequorum.generate", "nope"]),
                      "arguments": rng.choice([None, [], [None], [{"uri": 3}], ["id"] * 5])}),
        lambda: _rpc(None, "workspace/didChangeConfiguration",
                     {"settings": rng.choice([None, 3, {"server": {"debounce_ms": "fast"}},
                                              {"engine": {"strategy": "no-such"}}])}),
    ]
    for index in range(count):
        if index % 500 == 250:  # a huge document, then closed: must not accumulate
            big = f"file:///fuzz/huge{index}.py"
            yield _rpc(None, "textDocument/didOpen", {"textDocument": {
                "uri": big, "languageId": "python", "version": 1, "text": "x = 1\n" * 400_000}})
            yield _rpc(None, "textDocument/didClose", {"textDocument": {"uri": big}})
        elif index % 100 == 0:  # the fuzzed document itself, reopened now and then
            yield _rpc(None, "textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": STATS_PY.read_text()}})
        else:
            yield rng.choice(makers)()


def _rpc(id_: Any, method: str, params: Any) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if id_ is not None:
        message["id"] = id_
    return json.dumps(message).encode()


async def test_thousands_of_hostile_messages_leave_the_server_answering_correctly(installed_models, tmp_path):
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG)
    process = await asyncio.create_subprocess_exec(
        CODEQUORUM, "serve", "--stdio", "--config", str(config),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        limit=2**24)
    client = RawClient(process)
    try:
        await client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}}, "init")
        client.send({"method": "initialized", "params": {}})
        uri = "file:///fuzz/valid.py"
        client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": STATS_PY.read_text()}}})
        # one completion first: the model is loaded and its memory counted before the fuzzing
        warm = await _complete(client, uri, "warm")
        before = rss_mb(process.pid)

        rounds = []
        for seed in (1, 2):  # the second round shows whether memory keeps growing
            for body in hostile_messages(random.Random(seed), MESSAGES):
                client.send_body(body)
            await client.request("workspace/executeCommand", {"command": "codequorum.stats"}, f"round{seed}")
            rounds.append(rss_mb(process.pid))

        # Other open documents feed the prompt's context: close what the fuzzing edited, and
        # ask in a fresh document, so that the answer can be judged against the first one.
        for opened in ("file:///fuzz/doc.py", uri):
            client.send({"method": "textDocument/didClose", "params": {"textDocument": {"uri": opened}}})
        fresh = "file:///fuzz/fresh.py"
        client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": fresh, "languageId": "python", "version": 1, "text": STATS_PY.read_text()}}})
        reply = await _complete(client, fresh, "after-fuzz")
        stats = await client.request("workspace/executeCommand", {"command": "codequorum.stats"}, "stats")
        after = rss_mb(process.pid)
        assert process.returncode is None
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    for answer in (warm, reply):
        items = answer["result"]["items"]
        assert items and "values" in items[0]["insertText"], json.dumps([answer, stats])
    assert client.messages_received > MESSAGES // 4  # the bad requests got error replies
    print(f"fuzz: 2 x {MESSAGES} hostile messages, RSS {before:.0f} MB -> {rounds[0]:.0f} MB "
          f"-> {rounds[1]:.0f} MB -> {after:.0f} MB after the last completion")
    assert after - before < MAX_RSS_GROWTH_MB, (before, rounds, after)
    assert rounds[1] - rounds[0] < MAX_SECOND_ROUND_GROWTH_MB, rounds  # no growth without bound


async def _complete(client: RawClient, uri: str, id_: str) -> dict[str, Any]:
    reply = await client.request("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": MEAN_BODY, "context": {"triggerKind": 2}}, id_)
    assert "result" in reply, reply
    return reply
