"""Feedback and the router's memory in PostgreSQL: what the replicas of a team server share.

psycopg 3 (`pip install 'codequorum[postgresql]'`). One connection per store, opened on first
use, and opened again when it is lost (each operation is retried once; every write is
idempotent). The tables are created on first use under an advisory lock, so replicas that
start together do not race; a table from before partial accepts gets their column and event
there too (`_upgrade`). Point `search_path` elsewhere in the URL
(`?options=-csearch_path%3Dcodequorum`) to keep them out of the `public` schema.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import astuple
from typing import Any, TypeVar

from codequorum.routing.entry import Entry
from codequorum.stores.errors import StoreError
from codequorum.stores.records import COLUMNS, EVENTS, Event, FeedbackRecord
from codequorum.vocabulary.store_location import StoreLocation

T = TypeVar("T")
CONNECT_TIMEOUT_S = 5  # unless the URL says otherwise
_SCHEMA_LOCK = 0x636F6465  # pg_advisory_xact_lock key: "code"

_EVENT_CHECK = "CHECK (event IN ('shown', 'accepted', 'accepted_partial', 'dismissed'))"
_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS feedback (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        suggestion_id TEXT NOT NULL,
        event TEXT NOT NULL CONSTRAINT feedback_event_check {_EVENT_CHECK},
        kind TEXT NOT NULL,
        member TEXT NOT NULL,
        strategy TEXT NOT NULL,
        language TEXT,
        rank INTEGER NOT NULL,
        text TEXT NOT NULL,
        prefix_tail TEXT NOT NULL,
        prompt_prefix TEXT NOT NULL DEFAULT '',
        prompt_suffix TEXT NOT NULL DEFAULT '',
        suggested_at DOUBLE PRECISION NOT NULL,
        event_at DOUBLE PRECISION NOT NULL,
        accepted_chars INTEGER,
        user_name TEXT
    )""",
    "ALTER TABLE feedback ADD COLUMN IF NOT EXISTS accepted_chars INTEGER",
    "ALTER TABLE feedback ADD COLUMN IF NOT EXISTS user_name TEXT",
    "CREATE INDEX IF NOT EXISTS feedback_member ON feedback (member, event)",
    "CREATE INDEX IF NOT EXISTS feedback_event_at ON feedback (event_at)",
    """CREATE TABLE IF NOT EXISTS router_memory (
        position INTEGER PRIMARY KEY,
        text TEXT NOT NULL,
        source TEXT NOT NULL,
        outcomes JSONB NOT NULL,
        tokens JSONB NOT NULL,
        embedding REAL[] NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS router_memory_version (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        version TEXT NOT NULL,
        saved_at DOUBLE PRECISION NOT NULL
    )""",
)
PAGE = 2000
_EVENT_AT = 1 + COLUMNS.index("event_at")  # in a row that starts with the id
_INSERT = (f"INSERT INTO feedback ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)}) "
           "ON CONFLICT (event_id) DO NOTHING")
_LOAD_MEMORY = ("SELECT m.text, m.source, m.outcomes, m.tokens, m.embedding FROM router_memory_version v "
                "LEFT JOIN router_memory m ON true ORDER BY m.position")
_CHECKS = "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'feedback'::regclass AND contype = 'c'"
_SAVE_VERSION = ("INSERT INTO router_memory_version VALUES (1, %s, %s) ON CONFLICT (singleton) "
                 "DO UPDATE SET version = EXCLUDED.version, saved_at = EXCLUDED.saved_at")


def _psycopg() -> Any:
    try:
        import psycopg
        import psycopg.conninfo
        import psycopg.sql
        import psycopg.types.json
    except ImportError as error:
        raise StoreError("a postgresql:// store needs psycopg: pip install 'codequorum[postgresql]'") from error
    return psycopg


class PostgresStore:
    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self._psycopg = _psycopg()
        self._connection: Any = None
        self._lock = threading.Lock()  # one connection, used by the writer thread and readers

    def add(self, records: Sequence[FeedbackRecord]) -> int:
        if not records:
            return 0

        def insert(connection: Any) -> int:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(_INSERT, [astuple(r) for r in records])
                return int(cursor.rowcount)

        return self._run("write to", insert)

    def records(self, events: Collection[Event] | None = None) -> Iterator[FeedbackRecord]:
        wanted = list(events) if events is not None else list(EVENTS)
        query = (f"SELECT id, {', '.join(COLUMNS)} FROM feedback WHERE event = ANY(%s) "
                 "AND (event_at, id) > (%s, %s) ORDER BY event_at, id LIMIT %s")
        after: tuple[float, int] = (float("-inf"), -1)
        while True:  # a page at a time: a store of millions of events is never read whole
            page = self._run("read", lambda c, after=after: c.execute(query, (wanted, *after, PAGE)).fetchall())
            yield from (FeedbackRecord(*row[1:]) for row in page)
            if len(page) < PAGE:
                return
            after = (page[-1][_EVENT_AT], page[-1][0])

    def purge(self, before: float) -> int:
        return self._run("purge", lambda c: int(c.execute(
            "DELETE FROM feedback WHERE event_at < %s", (before,)).rowcount))

    def save_memory(self, entries: Sequence[Entry], version: str) -> None:
        jsonb = self._psycopg.types.json.Jsonb
        rows = [(i, e.text, e.source, jsonb(e.outcomes), jsonb(e.tokens), e.embedding)
                for i, e in enumerate(entries)]

        def save(connection: Any) -> None:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM router_memory")
                cursor.executemany("INSERT INTO router_memory VALUES (%s, %s, %s, %s, %s, %s)", rows)
                cursor.execute(_SAVE_VERSION, (version, time.time()))

        self._run("write the router memory to", save)

    def load_memory(self) -> list[Entry] | None:
        rows = self._run("read the router memory from", lambda c: c.execute(_LOAD_MEMORY).fetchall())
        if not rows:
            return None
        return [Entry(text, source, dict(outcomes), dict(tokens), [float(x) for x in embedding])
                for text, source, outcomes, tokens, embedding in rows if text is not None]

    def memory_version(self) -> str | None:
        row = self._run("read the router memory from",
                        lambda c: c.execute("SELECT version FROM router_memory_version").fetchone())
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _run(self, doing: str, work: Callable[[Any], T]) -> T:
        """`work` on the connection; a lost connection is opened again and `work` retried once."""
        psycopg = self._psycopg
        with self._lock:
            for attempt in (1, 2):
                try:
                    return work(self._connect())
                except psycopg.OperationalError as error:
                    self._drop()
                    if attempt == 2:
                        raise StoreError(f"could not {doing} the feedback store {self.location}: "
                                         f"{_first_line(error)} (is the server up, and the URL right?)") from error
                except psycopg.Error as error:
                    raise StoreError(f"could not {doing} the feedback store {self.location}: "
                                     f"{_first_line(error)}") from error
        raise AssertionError("unreachable")

    def _connect(self) -> Any:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        psycopg = self._psycopg
        options = psycopg.conninfo.conninfo_to_dict(self.location.target)
        options.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
        options.setdefault("application_name", "codequorum")
        connection = psycopg.connect(autocommit=True, **options)
        try:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    connection.execute(statement)
                _upgrade(connection, psycopg.sql)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def _upgrade(connection: Any, sql: Any) -> None:
    """A table from before partial accepts: its CHECK refuses the event, so it is replaced (once:
    the new one names it)."""
    stale = [name for name, definition in connection.execute(_CHECKS).fetchall()
             if "'shown'" in definition and "'accepted_partial'" not in definition]
    for name in stale:
        connection.execute(sql.SQL("ALTER TABLE feedback DROP CONSTRAINT {}").format(sql.Identifier(name)))
    if stale:
        connection.execute(f"ALTER TABLE feedback ADD CONSTRAINT feedback_event_check {_EVENT_CHECK}")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
