"""What users did with suggestions: the events a session stores, and the writers that store them.

The session remembers each suggestion it sent (bounded, in memory) under an id; an event for
that id becomes a `FeedbackRecord` with the member and strategy that produced the suggestion
and, unless `[server] feedback_keep_text` is off, its text and the prompt window around the
cursor. A `FeedbackWriter` puts records in the store `[server] feedback_db` names (`stores/`):
at once for an SQLite file, from a background thread for PostgreSQL, so that a slow or
unreachable database never holds up an editor. Sessions of one server share a writer per store.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from codequorum.config import ServerConfig
from codequorum.server.suggestions import Suggestion
from codequorum.stores.errors import StoreError
from codequorum.stores.open import open_store
from codequorum.stores.protocol import FeedbackStore
from codequorum.stores.records import EVENTS, Event, FeedbackRecord
from codequorum.vocabulary.store_location import StoreLocation, parse_location

__all__ = ["EVENTS", "Event", "FeedbackPool", "FeedbackTarget", "FeedbackWriter", "SentSuggestion",
           "SuggestionLog", "default_feedback_path", "feedback_target", "record_for"]

log = logging.getLogger(__name__)

PREFIX_TAIL_CHARS = 500  # enough of the request for the router to learn from
PURGE_EVERY_S = 3600.0
MAX_PENDING = 10_000  # events a background writer holds while its database is away
BATCH = 500
DAY_S = 86_400.0


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
    prompt_prefix: str = ""  # the prompt window before the cursor
    prompt_suffix: str = ""  # and after it


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


def record_for(suggestion_id: str, event: Event, sent: SentSuggestion, keep_text: bool,
               now: float | None = None, accepted_chars: int | None = None,
               user: str | None = None) -> FeedbackRecord:
    """The record of one event; without `keep_text`, no code and no prompt in it (how much of
    a partial accept was taken is kept: it is a count, not code)."""
    def kept(text: str) -> str:
        return text if keep_text else ""

    return FeedbackRecord(
        event_id=uuid.uuid4().hex, suggestion_id=suggestion_id, event=event, kind=sent.kind,
        member=sent.suggestion.member, strategy=sent.suggestion.strategy, language=sent.language,
        rank=sent.rank, text=kept(sent.suggestion.text), prefix_tail=kept(sent.prefix_tail),
        prompt_prefix=kept(sent.prompt_prefix), prompt_suffix=kept(sent.prompt_suffix),
        suggested_at=sent.sent_at, event_at=time.time() if now is None else now,
        accepted_chars=accepted_chars, user_name=user,
    )


@dataclass(frozen=True)
class FeedbackTarget:
    """Where a session's events go, and how long they are kept there."""

    location: StoreLocation
    retention_days: int | None


def feedback_target(config: ServerConfig) -> FeedbackTarget | None:
    """The store `[server]` names (the user data dir's SQLite file by default); None: feedback off."""
    if not config.feedback:
        return None
    location = parse_location(config.feedback_db) if config.feedback_db else parse_location(default_feedback_path())
    return FeedbackTarget(location, config.feedback_retention_days)


class FeedbackWriter:
    """Puts records into one store, and deletes those older than the retention hourly.

    In the background (a database server), records wait in a bounded queue; while the store
    fails, writing is retried with a growing pause, and the oldest records are dropped past
    `MAX_PENDING`. At once (an SQLite file), a failure is logged: feedback never fails a request.
    """

    def __init__(self, store: FeedbackStore, retention_days: int | None, background: bool,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.retention_days = retention_days
        self.background = background
        self.dropped = 0  # records lost: the queue was full, or the store failed at close
        self._clock = clock
        self._purged_at: float | None = None
        self._failing = False
        self._pending: deque[FeedbackRecord] = deque()
        self._in_flight = 0
        self._closing = False
        self._stopping = threading.Event()  # wakes a retry's pause at close
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._drain, name=f"feedback → {store.location}", daemon=True)
            self._thread.start()

    def submit(self, record: FeedbackRecord) -> None:
        if not self.background:
            self._write([record], retry=False)
            return
        with self._changed:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.error("feedback store %s is not keeping up: %d event(s) dropped", self.store.location,
                              self.dropped)
            self._pending.append(record)
            self._changed.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted record is written; False when `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._in_flight, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is pending (for up to `timeout` seconds), then close the store."""
        if self._thread is not None:
            self.flush(timeout)
            with self._changed:
                self._closing = True
                self._changed.notify_all()
            self._stopping.set()
            self._thread.join(timeout)
        self.store.close()

    def _drain(self) -> None:
        self._purge_if_due()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closing)
                if not self._pending:
                    return
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
                self._in_flight = len(batch)
            self._write(batch, retry=True)
            with self._changed:
                self._in_flight = 0
                self._changed.notify_all()

    def _write(self, batch: list[FeedbackRecord], retry: bool) -> None:
        pause = 0.5
        while True:
            try:
                self.store.add(batch)
                self._purge_if_due()
            except StoreError as error:
                if not self._failing:
                    log.error("%s; feedback is kept in memory and retried" if retry else "%s", error)
                self._failing = True
                if not retry or self._closing:
                    with self._changed:
                        self.dropped += len(batch)
                    return
                self._stopping.wait(pause)
                pause = min(pause * 2, 30.0)
                continue
            if self._failing:
                log.warning("feedback store %s answers again", self.store.location)
                self._failing = False
            return

    def _purge_if_due(self) -> None:
        if self.retention_days is None:
            return
        now = self._clock()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY_S:
            return
        try:
            purged = self.store.purge(now - self.retention_days * DAY_S)
        except StoreError as error:
            log.error("could not delete old feedback: %s", error)
            return
        self._purged_at = now
        if purged:
            log.info("deleted %d feedback event(s) older than %d days", purged, self.retention_days)


class FeedbackPool:
    """The writers of one server process, shared by its sessions: one connection per store."""

    def __init__(self, opener: Callable[[StoreLocation], FeedbackStore] = open_store) -> None:
        self._open = opener
        self._writers: dict[FeedbackTarget, tuple[FeedbackWriter, int]] = {}
        self._lock = threading.Lock()

    def acquire(self, target: FeedbackTarget) -> FeedbackWriter:
        with self._lock:
            writer, users = self._writers.get(target, (None, 0))
            if writer is None:
                background = target.location.kind == "postgresql"
                writer = FeedbackWriter(self._open(target.location), target.retention_days, background)
            self._writers[target] = (writer, users + 1)
            return writer

    def release(self, writer: FeedbackWriter) -> None:
        """One session lets go; the last one closes the writer (after writing what is pending)."""
        with self._lock:
            for target, (shared, users) in list(self._writers.items()):
                if shared is writer:
                    if users > 1:
                        self._writers[target] = (shared, users - 1)
                        return
                    del self._writers[target]
                    break
            else:
                return
        writer.close()
