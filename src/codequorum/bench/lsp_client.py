"""A plain LSP client over stdio, as an editor is: JSON-RPC framing, nothing of the server's.

It starts `codequorum serve` as a child process, answers the server's own requests with
null (as a minimal editor does), and applies inline completion items exactly as editors do:
`insertText` over `range`, positions counted in UTF-16 code units.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Sequence
from typing import Any

CAPABILITIES: dict[str, Any] = {
    "textDocument": {"inlineCompletion": {"dynamicRegistration": False},
                     "synchronization": {"didSave": True}},
    "window": {"workDoneProgress": False},
}


class LspError(RuntimeError):
    pass


class StdioLspClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read_forever())

    @classmethod
    async def start(cls, argv: Sequence[str], env: dict[str, str] | None = None,
                    stderr: Any = asyncio.subprocess.DEVNULL) -> StdioLspClient:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=stderr, env=env, limit=64 * 1024 * 1024)
        return cls(process)

    async def initialize(self, root_uri: str, options: dict[str, Any] | None = None) -> Any:
        result = await self.request("initialize", {
            "processId": None, "rootUri": root_uri, "capabilities": CAPABILITIES,
            "initializationOptions": options or {},
        })
        await self.notify("initialized", {})
        return result

    async def request(self, method: str, params: Any, timeout: float | None = None) -> Any:
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            await self.notify("$/cancelRequest", {"id": request_id})
            raise
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, params: Any) -> None:
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def open(self, uri: str, text: str, language: str = "python") -> None:
        await self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": 1, "text": text}})

    async def close(self, uri: str) -> None:
        await self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    async def inline_completion(self, uri: str, text: str, offset: int,
                                timeout: float | None = None) -> list[dict[str, Any]]:
        line, character = position_of(text, offset)
        result = await self.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 2},
        }, timeout)
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        return list(items)

    async def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            await self.request("shutdown", None, timeout=10)
            await self.notify("exit", None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._process.wait(), 10)
        if self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._reader.cancel()

    async def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        assert self._process.stdin is not None
        self._process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self._process.stdin.drain()

    async def _read_forever(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while True:
                message = await _read_message(stdout)
                if message is None:
                    break
                await self._dispatch(message)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(LspError("the server closed the connection"))

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # the server asks: a minimal editor says null
            await self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            return
        future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
        if future is None or future.done():
            return
        if "error" in message:
            future.set_exception(LspError(str(message["error"].get("message"))))
        else:
            future.set_result(message.get("result"))


async def _read_message(stream: asyncio.StreamReader) -> dict[str, Any] | None:
    length = None
    while True:
        line = await stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length is None:
        return None
    return json.loads(await stream.readexactly(length))


def position_of(text: str, offset: int) -> tuple[int, int]:
    """LSP position (line, UTF-16 character) of a string offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset), _utf16_length(text[line_start:offset])


def offset_of(text: str, line: int, character: int) -> int:
    """String offset of an LSP position."""
    start = 0
    for _ in range(line):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    row = text[start:end if end != -1 else len(text)]
    units = 0
    for index, char in enumerate(row):
        if units >= character:
            return start + index
        units += _utf16_length(char)
    return start + len(row)


def apply_item(text: str, item: dict[str, Any], cursor: int) -> str:
    """The document after an inline completion item is accepted: `insertText` over `range`
    (at the cursor when the item has none)."""
    insert = item["insertText"]
    if isinstance(insert, dict):  # a StringValue snippet: its plain text
        insert = insert.get("value", "")
    place = item.get("range")
    if place is None:
        return text[:cursor] + insert + text[cursor:]
    start = offset_of(text, place["start"]["line"], place["start"]["character"])
    end = offset_of(text, place["end"]["line"], place["end"]["character"])
    return text[:start] + insert + text[end:]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
