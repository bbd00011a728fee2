"""The ladder's fallback member reads each completion's prompt in the background, through the
real `codequorum serve --stdio` with both real Qwen members: at the next place of the open
file its prompt is then mostly in its KV cache."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from codequorum.bench.fim_run import server_argv
from codequorum.bench.lsp_client import StdioLspClient
from codequorum.server.extensions import STATS_COMMAND

pytestmark = [pytest.mark.e2e]

# no deadline cuts a request short on a busy machine: this is about the cache, not the clock
DEFAULTS = "[server]\nfeedback = false\ninline_deadline_s = 120\ninline_hard_cap_s = 180\n"
DOCUMENT = '''"""Small statistics over lists of numbers, for the report generator."""

from __future__ import annotations


def mean(values: list[float]) -> float:
    """The arithmetic mean of a non-empty list of numbers."""
    return sum(values) / len(values)


def spread(values: list[float]) -> float:
    """The largest value minus the smallest."""
    

def count_above(values: list[float], limit: float) -> int:
    """How many of the values are greater than `limit`."""
    '''
FIRST = DOCUMENT.index("smallest.\"\"\"\n    ") + len("smallest.\"\"\"\n    ")  # the body of spread
SECOND = len(DOCUMENT)  # the body of the last function


async def stats(client: StdioLspClient) -> dict[str, Any]:
    return await client.request("workspace/executeCommand", {"command": STATS_COMMAND, "arguments": []}, 30)


async def warmed(client: StdioLspClient, count: int, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (now := await stats(client))["warmings_done"] < count:
        assert time.monotonic() < deadline, now
        await asyncio.sleep(0.5)
    return now


async def test_the_unasked_member_reads_the_prompt_and_reuses_it_at_the_next_place(installed_models, tmp_path):
    config = tmp_path / "codequorum.toml"
    config.write_text(DEFAULTS)
    client = await StdioLspClient.start(server_argv(config))
    try:
        await client.initialize(tmp_path.as_uri())
        uri = (tmp_path / "numbers.py").as_uri()
        await client.open(uri, DOCUMENT)
        items = await client.inline_completion(uri, DOCUMENT, FIRST, timeout=300)
        first = await warmed(client, 1)
        assert [call["member"] for call in first["last_run"]["calls"]] == ["qwen-large"], first
        assert items, first
        [warming] = first["last_warming"]["calls"]
        assert warming["member"] == "qwen-small" and warming["error"] is None, first
        await client.inline_completion(uri, DOCUMENT, SECOND, timeout=300)
        second = await warmed(client, 2)
    finally:
        await client.shutdown()
    [warming] = second["last_warming"]["calls"]
    # the document's start, read at the first place, was still in qwen-small's KV cache
    assert warming["cached_prompt_tokens"] > 0.3 * warming["prompt_tokens"], second
