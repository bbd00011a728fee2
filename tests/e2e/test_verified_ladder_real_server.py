"""The default ladder through the real `codequorum serve --stdio` with both real Qwen members:
in a function whose docstring shows examples, the cheap member answers first and its snippet,
run against them in the sandbox, is taken without asking the strong one; warming on open reads
the cheap member's prompt first in such a document and the strong member's first elsewhere."""

from __future__ import annotations

import pytest

from codequorum.bench.lsp_client import StdioLspClient
from tests.e2e.test_open_warming_real_server import started, stats, until

pytestmark = [pytest.mark.e2e]

# the shipped ladder; no deadline cuts a request short on a busy machine
DEFAULTS = "[server]\nfeedback = false\ninline_deadline_s = 120\ninline_hard_cap_s = 180\n"
WITH_EXAMPLES = '''"""Prices for the shop's till."""


def with_tax(price: float, rate: float) -> float:
    """The price with tax added at `rate` (0.2 for 20%), to the cent.

    >>> with_tax(10.0, 0.2)
    12.0
    >>> with_tax(3.5, 0.1)
    3.85
    """
    
    return round(total, 2)
'''
GAP = WITH_EXAMPLES.index('    """\n    \n') + len('    """\n    ')  # the line that computes `total`
WITHOUT = '''"""Names for the shop's till."""


def display_name(first: str, last: str) -> str:
    """How a customer is greeted on the receipt."""
    return f"{first} {last[:1]}."
'''


def warmed_members(now: dict) -> list[str]:
    return [call["member"] for call in now["last_open_warming"]["calls"]]


async def test_a_verified_cheap_snippet_is_taken_alone_and_warming_follows_the_ladder(installed_models, tmp_path):
    client = await started(tmp_path, DEFAULTS)
    try:
        uri = (tmp_path / "till.py").as_uri()
        await client.open(uri, WITH_EXAMPLES)
        opened = await until(client, "open_warmings_done", 1)
        items = await client.inline_completion(uri, WITH_EXAMPLES, GAP, timeout=300)
        answered = await stats(client)
        other = (tmp_path / "names.py").as_uri()
        await client.open(other, WITHOUT)
        elsewhere = await until(client, "open_warmings_done", 2)
    finally:
        await client.shutdown()
    assert warmed_members(opened) == ["qwen-small", "qwen-large"], opened
    assert items and items[0]["command"]["title"] == "codequorum: qwen-small", items
    assert "rate" in items[0]["insertText"], items  # it computes with the tax rate; the examples passed
    calls = answered["last_run"]["calls"]
    assert [call["member"] for call in calls] == ["qwen-small"], answered
    assert warmed_members(elsewhere) == ["qwen-large", "qwen-small"], elsewhere
