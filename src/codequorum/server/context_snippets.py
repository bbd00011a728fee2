"""Snippets of the other open documents that may help the model at the cursor.

Documents are cut into windows of lines; a window's relevance is the Jaccard overlap of its
identifiers with those around the cursor. The cursor's own line is left out of the query so
that the choice, and with it the start of the prompt (the part a model's KV cache reuses),
stays the same while the user types on one line.

Cutting a document is memoised (requests come at every keystroke), one version per document:
the cache holds the latest text of at most `CACHED_DOCUMENTS` documents, never the history of
one that is being edited; after an edit only the windows that changed are read again.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from codequorum.vocabulary.request import ContextSnippet

WINDOW_LINES = 16
CACHED_DOCUMENTS = 32
QUERY_LINES_BEFORE = 12
QUERY_LINES_AFTER = 4
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_COMMON = frozenset(
    "and def return self import from class for while not None True False elif else with pass "
    "const let var function new this null true false void int str float bool string public "
    "private static final package func type struct impl pub use mut match".split()
)


@dataclass(frozen=True)
class OpenDocument:
    path: str  # as the prompt names it
    text: str


@dataclass(frozen=True)
class _Window:
    path: str
    start_line: int
    text: str
    identifiers: frozenset[str]


def relevant_snippets(
    documents: Iterable[OpenDocument], prefix: str, suffix: str, budget_chars: int
) -> tuple[ContextSnippet, ...]:
    """The best-matching windows of `documents` that fit `budget_chars`, in document order."""
    if budget_chars <= 0:
        return ()
    query = identifiers(_around_cursor(prefix, suffix))
    if not query:
        return ()
    scored = [(_jaccard(query, w.identifiers), w) for d in documents for w in _windows(d)]
    relevant = (pair for pair in scored if pair[0] > 0)
    ranked = sorted(relevant, key=lambda p: (-p[0], p[1].path, p[1].start_line))
    chosen, used = [], 0
    for _score, window in ranked:
        if used + len(window.text) <= budget_chars:
            chosen.append(window)
            used += len(window.text)
    chosen.sort(key=lambda w: (w.path, w.start_line))
    return tuple(ContextSnippet(w.path, w.text) for w in chosen)


def identifiers(text: str) -> frozenset[str]:
    return frozenset(word for word in _IDENTIFIER.findall(text) if word not in _COMMON)


def _around_cursor(prefix: str, suffix: str) -> str:
    lines_before = prefix.split("\n")[:-1][-QUERY_LINES_BEFORE:]  # without the cursor's line
    lines_after = suffix.split("\n")[1:QUERY_LINES_AFTER + 1]
    return "\n".join(lines_before + lines_after)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _windows(document: OpenDocument) -> tuple[_Window, ...]:
    return _WINDOWS.windows(document)


class WindowCache:
    """The windows of the latest text of each of the `size` most recently used documents."""

    def __init__(self, size: int = CACHED_DOCUMENTS) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[str, tuple[_Window, ...]]] = OrderedDict()
        self._lock = threading.Lock()  # sessions may ask from worker threads

    def windows(self, document: OpenDocument) -> tuple[_Window, ...]:
        with self._lock:
            entry = self._entries.get(document.path)
            if entry is not None and (entry[0] is document.text or entry[0] == document.text):
                self._entries.move_to_end(document.path)
                return entry[1]
        previous = entry[1] if entry is not None else ()
        windows = _cut(document.path, document.text, previous)
        with self._lock:
            self._entries[document.path] = (document.text, windows)  # replaces the old version
            self._entries.move_to_end(document.path)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return windows

    def __len__(self) -> int:
        return len(self._entries)


_WINDOWS = WindowCache()


def _cut(path: str, text: str, previous: tuple[_Window, ...] = ()) -> tuple[_Window, ...]:
    """Non-overlapping windows of a document; the identifiers of windows whose text is the
    same as in `previous` (an earlier version) are reused: an edit costs its own windows."""
    known = {window.text: window.identifiers for window in previous}
    lines = text.split("\n")
    windows = []
    for start in range(0, len(lines), WINDOW_LINES):
        chunk = "\n".join(lines[start:start + WINDOW_LINES]).strip("\n")
        if chunk.strip():
            found = known.get(chunk)
            windows.append(_Window(path, start, chunk, identifiers(chunk) if found is None else found))
    return tuple(windows)
