"""What the load benchmarks' editors share: the typing loop, an edit, an inline completion
request and its outcome, percentiles and a process's RSS (lsp_load.py with the real models,
server_load.py without)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pygls.lsp.client import LanguageClient

from codequorum.server.user_limits import RATE_LIMITED  # the server's answer over a user's limits

_ids = itertools.count()


@dataclass(frozen=True)
class Asked:
    outcome: Literal["items", "empty", "cancelled", "refused", "error"]
    seconds: float
    error: str = ""


async def ask_inline(client: LanguageClient, uri: str, row: int, character: int, msg_id: str) -> Asked:
    """One inline completion request, as the outcome an editor would see."""
    started = time.monotonic()
    try:
        result = await client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, row, character), msg_id=msg_id)
    except JsonRpcRequestCancelled:
        return Asked("cancelled", time.monotonic() - started)
    except JsonRpcException as error:
        outcome = "refused" if error.code == RATE_LIMITED else "error"
        return Asked(outcome, time.monotonic() - started, f"{type(error).__name__}: {error}")
    except Exception as error:  # anything else is a failure of the server
        return Asked("error", time.monotonic() - started, f"{type(error).__name__}: {error}")
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    return Asked("items" if items else "empty", time.monotonic() - started)


@dataclass(frozen=True)
class Typing:
    seconds: float  # how long the editor types
    keystroke_ms: float
    pause: tuple[float, float]  # reading the suggestion after a line, seconds
    chars_per_line: int  # how much of each line is retyped


async def type_lines(client: LanguageClient, uri: str, lines: list[str], rng: random.Random, typing: Typing,
                     ask: Callable[[int, int, str], Awaitable[None]]) -> None:
    """Retype the start of random lines of an open document, asking (`ask(row, character,
    msg_id)`) after each keystroke and cancelling the request before; returns once every
    request is answered or cancelled."""
    version = 0
    pending: tuple[asyncio.Task[None], str] | None = None
    asked: set[asyncio.Task[None]] = set()
    deadline = time.monotonic() + typing.seconds
    while time.monotonic() < deadline:
        row = rng.randrange(len(lines))
        code = lines[row].strip()
        indent = len(lines[row]) - len(code)
        if not code:
            continue
        version += 1  # the line is retyped: clear it first
        edit(client, uri, version, row, 0, len(lines[row]), " " * indent)
        typed_chars = min(len(code), typing.chars_per_line)
        for typed in range(1, typed_chars + 1):
            if time.monotonic() >= deadline:
                break
            version += 1
            edit(client, uri, version, row, indent + typed - 1, indent + typed - 1, code[typed - 1])
            if pending is not None and not pending[0].done():
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=pending[1]))
            msg_id = f"load-{next(_ids)}"
            pending = (asyncio.ensure_future(ask(row, indent + typed, msg_id)), msg_id)
            asked.add(pending[0])
            pending[0].add_done_callback(asked.discard)
            await asyncio.sleep(typing.keystroke_ms / 1000)
        await asyncio.sleep(rng.uniform(*typing.pause))  # reading the suggestion
        version += 1
        edit(client, uri, version, row, 0, indent + typed_chars, lines[row])
    if asked:
        await asyncio.wait(asked)


def edit(client: LanguageClient, uri: str, version: int, row: int, start: int, end: int, text: str) -> None:
    """didChange: `text` replaces columns start..end of `row`."""
    change = types.TextDocumentContentChangePartial(
        types.Range(types.Position(row, start), types.Position(row, end)), text)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version, uri), [change]))


def inline_params(uri: str, row: int, character: int) -> types.InlineCompletionParams:
    """An inline completion as an editor asks for it while the user types."""
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(row, character))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
