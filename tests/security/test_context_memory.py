"""Editing a big document does not keep its old versions: the snippet cache holds one text per
document (finding: 30 edits of a 200k-line document kept every version, +869 MiB).

The real snippet code on a 200,000-line document edited 30 times, as completions in another
document ask for context after every edit; memory is traced with tracemalloc.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from codequorum.server import context_snippets
from codequorum.server.context_snippets import OpenDocument, relevant_snippets

pytestmark = pytest.mark.e2e

LINES = 200_000
EDITS = 30
PREFIX = "total = compute_value(value_17, value_18)\nresult = compute_value(total, value_19)\n"


BASE = "\n".join(f"value_{i} = compute_value(value_{i - 1}, {i})" for i in range(LINES))


def edited(edit: int) -> str:
    """The document after the user's edit number `edit` (a line changed further down each time)."""
    line = edit * 1000
    old = f"value_{line} = compute_value(value_{line - 1}, {line})"
    return BASE.replace(old, f"value_{line} = edited_{edit}(value_{line - 1})", 1)


def test_thirty_edits_of_a_big_document_do_not_grow_memory():
    context_snippets._WINDOWS = context_snippets.WindowCache()
    tracemalloc.start()
    try:
        relevant_snippets([OpenDocument("big.py", edited(0))], PREFIX, "\n", 600)
        gc.collect()
        baseline, _ = tracemalloc.get_traced_memory()
        for edit in range(1, EDITS + 1):  # each text is dropped after use, as the editor moves on
            snippets = relevant_snippets([OpenDocument("big.py", edited(edit))], PREFIX, "\n", 600)
            assert snippets, "no context chosen"
        gc.collect()
        grown, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (grown - baseline) / 2**20 < 4, f"memory grew by {(grown - baseline) / 2**20:.1f} MiB"
    assert len(context_snippets._WINDOWS) == 1


def test_the_cache_keeps_at_most_its_size_of_documents():
    cache = context_snippets.WindowCache(size=3)
    for index in range(10):
        cache.windows(OpenDocument(f"d{index}.py", f"name_{index} = 1\n"))
    assert len(cache) == 3


def test_an_edit_reads_only_the_windows_it_changed():
    cache = context_snippets.WindowCache()
    first = cache.windows(OpenDocument("big.py", edited(0)))
    second = cache.windows(OpenDocument("big.py", edited(1)))
    shared = sum(a.identifiers is b.identifiers for a, b in zip(first, second, strict=True))
    assert shared == len(first) - 2  # line 0 and line 1000 changed: two windows
