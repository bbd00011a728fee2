"""Warming on open through the real `codequorum serve --stdio` with the real qwen-small: while
the user places the cursor, the member reads the opened document's prompt, so the first
completion in it finds most of its prompt in the KV cache; a request sent at once still gets
its answer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from codequorum.bench.fim_run import server_argv
from codequorum.bench.lsp_client import StdioLspClient
from codequorum.server.extensions import STATS_COMMAND

pytestmark = [pytest.mark.e2e]

# qwen-small alone; no deadline cuts a request short on a busy machine: this is about the cache
SMALL_ALONE = ('[server]\nfeedback = false\ninline_strategy = "single"\ninline_members = ["qwen-small"]\n'
               "inline_deadline_s = 120\ninline_hard_cap_s = 180\n")
DOCUMENT = '''"""A small stock register for the shop's back office."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


@dataclass
class Stock:
    items: dict[str, Item] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        """Register an item, or add to the quantity of one already known."""
        known = self.items.get(item.name)
        if known is None:
            self.items[item.name] = item
        else:
            known.quantity += item.quantity

    def value(self) -> float:
        """What everything in stock is worth."""
        

    def remove(self, name: str, quantity: int) -> None:
        """Take `quantity` of an item out of the stock; an unknown item is an error."""
        if name not in self.items:
            raise KeyError(f"unknown item {name}")
        item = self.items[name]
        item.quantity = max(0, item.quantity - quantity)

    def low(self, threshold: int) -> list[str]:
        """The names of the items with fewer than `threshold` left."""
        return sorted(n for n, i in self.items.items() if i.quantity < threshold)
'''
GAP = DOCUMENT.index('worth."""\n        ') + len('worth."""\n        ')  # the body of value, mid-document


async def stats(client: StdioLspClient) -> dict[str, Any]:
    return await client.request("workspace/executeCommand", {"command": STATS_COMMAND, "arguments": []}, 30)


async def until(client: StdioLspClient, counter: str, count: int, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (now := await stats(client))[counter] < count:
        assert time.monotonic() < deadline, now
        await asyncio.sleep(0.25)
    return now


def cached_share(run: dict[str, Any]) -> float:
    [call] = run["calls"]
    assert call["member"] == "qwen-small" and call["error"] is None, run
    return call["cached_prompt_tokens"] / call["prompt_tokens"]


async def started(tmp_path: Path, config_toml: str) -> StdioLspClient:
    """A server just initialized: the warm-up (loading the model) has only begun, as when an
    editor restores its open files at start."""
    config = tmp_path / "codequorum.toml"
    config.write_text(config_toml)
    client = await StdioLspClient.start(server_argv(config))
    await client.initialize(tmp_path.as_uri())
    return client


async def test_the_first_completion_in_an_opened_file_finds_its_prompt_read(installed_models, tmp_path):
    client = await started(tmp_path, SMALL_ALONE)
    try:
        uri = (tmp_path / "stock.py").as_uri()
        await client.open(uri, DOCUMENT)
        opened = await until(client, "open_warmings_done", 1)  # after the warm-up's own prompt
        assert opened["warm_up_seconds"] is not None, opened
        [warming] = opened["last_open_warming"]["calls"]
        assert warming["member"] == "qwen-small" and warming["tokens"] <= 1, opened
        items = await client.inline_completion(uri, DOCUMENT, GAP, timeout=300)
        first = await stats(client)
        # a request sent at once after opening another document: it stops the warming, and
        # is answered
        other = (tmp_path / "other.py").as_uri()
        await client.open(other, DOCUMENT.replace("Stock", "Shelf"))
        at_once = await client.inline_completion(other, DOCUMENT.replace("Stock", "Shelf"), GAP, timeout=300)
        last = await stats(client)
    finally:
        await client.shutdown()
    assert items, first
    # the document up to the gap was in the KV cache: about half the prompt (the rest is the suffix)
    assert cached_share(first["last_run"]) > 0.4, first
    assert at_once, last
    assert last["open_warmings"] == 2 and last["open_warmings_done"] + last["open_warmings_stopped"] == 2, last


async def test_without_warming_on_open_the_same_completion_starts_cold(installed_models, tmp_path):
    client = await started(tmp_path, SMALL_ALONE + "warm_on_open = false\n")
    try:
        uri = (tmp_path / "stock.py").as_uri()
        await client.open(uri, DOCUMENT)
        await asyncio.sleep(1.0)  # as long as a user might take: nothing reads the prompt meanwhile
        items = await client.inline_completion(uri, DOCUMENT, GAP, timeout=300)
        first = await stats(client)
    finally:
        await client.shutdown()
    assert items and first["open_warmings"] == 0, first
    assert cached_share(first["last_run"]) < 0.1, first  # only the warm-up's prompt was cached
