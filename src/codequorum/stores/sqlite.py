"""Feedback and the router's memory in one SQLite file: the default, for one machine.

Editors' sessions write side by side (WAL). A file written before events had ids and prompt
windows is upgraded in place when it is opened: its rows get ids derived from their own. A file
from before partial accepts has its table rebuilt, rows and their ids kept, since SQLite cannot
change the CHECK that refuses the new event.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import astuple

from codequorum.routing.entry import Entry
from codequorum.stores.errors import StoreError
from codequorum.stores.records import COLUMNS, EVENTS, Event, FeedbackRecord
from codequorum.vocabulary.store_location import StoreLocation

_FEEDBACK_TABLE = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    event_id TEXT,
    suggestion_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('shown', 'accepted', 'accepted_partial', 'dismissed')),
    kind TEXT NOT NULL,
    member TEXT NOT NULL,
    strategy TEXT NOT NULL,
    language TEXT,
    rank INTEGER NOT NULL,
    text TEXT NOT NULL,
    prefix_tail TEXT NOT NULL,
    prompt_prefix TEXT NOT NULL DEFAULT '',
    prompt_suffix TEXT NOT NULL DEFAULT '',
    suggested_at REAL NOT NULL,
    event_at REAL NOT NULL,
    accepted_chars INTEGER,
    user_name TEXT
);
"""
_TABLES = _FEEDBACK_TABLE + """
CREATE TABLE IF NOT EXISTS router_memory (
    position INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    outcomes TEXT NOT NULL,
    tokens TEXT NOT NULL,
    embedding TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS router_memory_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version TEXT NOT NULL,
    saved_at REAL NOT NULL
);
"""
_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS feedback_event_id ON feedback (event_id)",
    "CREATE INDEX IF NOT EXISTS feedback_member ON feedback (member, event)",
    "CREATE INDEX IF NOT EXISTS feedback_event_at ON feedback (event_at)",
)
# Columns a file from before the store protocol (or partial accepts, or named users) lacks.
_ADDED_COLUMNS = {"event_id": "TEXT", "prompt_prefix": "TEXT NOT NULL DEFAULT ''",
                  "prompt_suffix": "TEXT NOT NULL DEFAULT ''", "accepted_chars": "INTEGER",
                  "user_name": "TEXT"}
PAGE = 2000
_EVENT_AT = 1 + COLUMNS.index("event_at")  # in a row that starts with the id
_LOAD_MEMORY = ("SELECT m.text, m.source, m.outcomes, m.tokens, m.embedding FROM router_memory_version v "
                "LEFT JOIN router_memory m ON 1 ORDER BY m.position")
_INSERT = (f"INSERT OR IGNORE INTO feedback ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in COLUMNS)})")


class SqliteStore:
    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one connection, used by the writer thread and readers

    def add(self, records: Sequence[FeedbackRecord]) -> int:
        if not records:
            return 0
        with self._lock:
            connection = self._connect(create=True)
            assert connection is not None
            with self._failures("write to"), connection:
                return connection.executemany(_INSERT, [astuple(r) for r in records]).rowcount

    def records(self, events: Collection[Event] | None = None) -> Iterator[FeedbackRecord]:
        wanted = tuple(events) if events is not None else EVENTS
        query = (f"SELECT id, {', '.join(COLUMNS)} FROM feedback WHERE event IN ({', '.join('?' for _ in wanted)}) "
                 "AND (event_at, id) > (?, ?) ORDER BY event_at, id LIMIT ?")
        after: tuple[float, int] = (float("-inf"), -1)
        while True:  # a page at a time: a store of millions of events is never read whole
            with self._lock:
                connection = self._connect(create=False)
                if connection is None:
                    return
                with self._failures("read"):
                    page = connection.execute(query, (*wanted, *after, PAGE)).fetchall()
            yield from (FeedbackRecord(*row[1:]) for row in page)
            if len(page) < PAGE:
                return
            after = (page[-1][_EVENT_AT], page[-1][0])

    def purge(self, before: float) -> int:
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return 0
            with self._failures("purge"), connection:
                return connection.execute("DELETE FROM feedback WHERE event_at < ?", (before,)).rowcount

    def save_memory(self, entries: Sequence[Entry], version: str) -> None:
        rows = [(i, e.text, e.source, json.dumps(e.outcomes), json.dumps(e.tokens), json.dumps(e.embedding))
                for i, e in enumerate(entries)]
        with self._lock:
            connection = self._connect(create=True)
            assert connection is not None
            with self._failures("write the router memory to"), connection:
                connection.execute("DELETE FROM router_memory")
                connection.executemany("INSERT INTO router_memory VALUES (?, ?, ?, ?, ?, ?)", rows)
                connection.execute("INSERT OR REPLACE INTO router_memory_version VALUES (1, ?, ?)",
                                   (version, time.time()))

    def load_memory(self) -> list[Entry] | None:
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return None
            with self._failures("read the router memory from"):
                rows = connection.execute(_LOAD_MEMORY).fetchall()  # one statement: one snapshot
        if not rows:
            return None
        return [Entry(text, source, json.loads(outcomes), json.loads(tokens), json.loads(embedding))
                for text, source, outcomes, tokens, embedding in rows if text is not None]

    def memory_version(self) -> str | None:
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return None
            with self._failures("read the router memory from"):
                row = connection.execute("SELECT version FROM router_memory_version").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The open connection; None when the file does not exist and `create` is false."""
        if self._connection is not None:
            return self._connection
        path = self.location.path
        if not create and not path.is_file():
            return None
        with self._failures("open"):
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=10, check_same_thread=False)
            try:
                connection.execute("PRAGMA journal_mode=WAL")  # editors' sessions write side by side
                with connection:
                    connection.executescript(_TABLES)
                    _upgrade(connection)
                    for index in _INDEXES:  # one at a time: executescript would commit the upgrade
                        connection.execute(index)
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        return connection

    def _failures(self, doing: str) -> AbstractContextManager[None]:
        return _failures(f"could not {doing} the feedback store {self.location}")


@contextmanager
def _failures(what: str) -> Iterator[None]:
    """sqlite3 and file errors as a StoreError that names the file."""
    try:
        yield
    except (sqlite3.Error, OSError) as error:
        raise StoreError(f"{what}: {error} (check the path and its permissions)") from error


def _upgrade(connection: sqlite3.Connection) -> None:
    """Add what a file from before event ids, prompt windows and partial accepts lacks; its rows
    get stable ids. One process upgrades a file while the others wait, then find it done."""
    if _outdated(connection):
        connection.execute("BEGIN IMMEDIATE")  # committed by the caller's `with connection`
    if _outdated(connection):
        present = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
        for column, declaration in _ADDED_COLUMNS.items():
            if column not in present:
                connection.execute(f"ALTER TABLE feedback ADD COLUMN {column} {declaration}")
        if not _takes_partial_accepts(connection):
            _rebuild_feedback_table(connection)
    connection.execute("UPDATE feedback SET event_id = 'sqlite-' || suggestion_id || '-' || event || '-' || id "
                       "WHERE event_id IS NULL")


def _outdated(connection: sqlite3.Connection) -> bool:
    present = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
    return not present.issuperset(_ADDED_COLUMNS) or not _takes_partial_accepts(connection)


def _takes_partial_accepts(connection: sqlite3.Connection) -> bool:
    (table,) = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'feedback'").fetchone()
    return "'accepted_partial'" in table


def _rebuild_feedback_table(connection: sqlite3.Connection) -> None:
    """The table again with the CHECK of today, its rows copied with their ids (the order pages
    are read in). Its indexes go with the old table; the caller creates them again."""
    columns = ", ".join(("id", *COLUMNS))
    connection.execute("ALTER TABLE feedback RENAME TO feedback_before_partial_accepts")
    connection.execute(_FEEDBACK_TABLE)
    connection.execute(f"INSERT INTO feedback ({columns}) SELECT {columns} FROM feedback_before_partial_accepts")
    connection.execute("DROP TABLE feedback_before_partial_accepts")
