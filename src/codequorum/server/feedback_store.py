"""What users did with suggestions, kept in SQLite: the router's training data.

The session remembers each suggestion it sent (bounded, in memory) under an id; an event
for that id is written with the member and strategy that produced the suggestion.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs

from codequorum.server.suggestions import Suggestion

log = logging.getLogger(__name__)

Event = Literal["shown", "accepted", "dismissed"]
EVENTS: tuple[Event, ...] = ("shown", "accepted", "dismissed")
PREFIX_TAIL_CHARS = 500  # enough of the request for the router to learn from

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    suggestion_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('shown', 'accepted', 'dismissed')),
    kind TEXT NOT NULL,
    member TEXT NOT NULL,
    strategy TEXT NOT NULL,
    language TEXT,
    rank INTEGER NOT NULL,
    text TEXT NOT NULL,
    prefix_tail TEXT NOT NULL,
    suggested_at REAL NOT NULL,
    event_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_member ON feedback (member, event);
"""


def default_feedback_path() -> Path:
    return Path(platformdirs.user_data_dir("codequorum")) / "feedback.sqlite3"


@dataclass(frozen=True)
class SentSuggestion:
    """A suggestion as it was sent: enough to store an event about it later."""

    suggestion: Suggestion
    kind: str  # "inline", "completion" or "generate"
    language: str | None
    rank: int  # 0 = the best
    prefix_tail: str
    sent_at: float  # Unix time


class SuggestionLog:
    """Ids for sent suggestions, the most recent `size` of them remembered."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._sent: OrderedDict[str, SentSuggestion] = OrderedDict()
        self._prefix = uuid.uuid4().hex[:8]  # ids from different sessions never collide
        self._counter = itertools.count(1)

    def add(self, sent: SentSuggestion) -> str:
        suggestion_id = f"{self._prefix}-{next(self._counter)}"
        self._sent[suggestion_id] = sent
        while len(self._sent) > self.size:
            self._sent.popitem(last=False)
        return suggestion_id

    def get(self, suggestion_id: str) -> SentSuggestion | None:
        return self._sent.get(suggestion_id)


class FeedbackStore:
    """An SQLite file of feedback events; created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def record(self, suggestion_id: str, event: Event, sent: SentSuggestion) -> None:
        row = (suggestion_id, event, sent.kind, sent.suggestion.member, sent.suggestion.strategy,
               sent.language, sent.rank, sent.suggestion.text, sent.prefix_tail, sent.sent_at,
               time.time())
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO feedback (suggestion_id, event, kind, member, strategy, language, rank,"
                " text, prefix_tail, suggested_at, event_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path)
            connection.execute("PRAGMA journal_mode=WAL")  # editors' sessions write side by side
            connection.executescript(_SCHEMA)
            self._connection = connection
        return self._connection
