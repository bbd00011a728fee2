"""Feedback as the server records it: the records, the writers (at once, or from a background
thread that survives a failing store), the retention, and the sessions that share them."""

from __future__ import annotations

import threading

import pytest

from codequorum.server.engines import EnginePool
from codequorum.server.feedback_store import (
    DAY_S,
    MAX_PENDING,
    PURGE_EVERY_S,
    FeedbackPool,
    FeedbackTarget,
    FeedbackWriter,
    SentSuggestion,
    SuggestionLog,
    feedback_target,
    record_for,
)
from codequorum.server.session import ServerContext, Session
from codequorum.server.settings_source import SettingsSource
from codequorum.server.suggestions import Suggestion
from codequorum.stores.errors import StoreError
from codequorum.stores.open import open_store
from codequorum.vocabulary.store_location import parse_location
from tests.unit.server.test_engines import Closing
from tests.unit.stores.records_double import record

SENT = SentSuggestion(Suggestion("return 1", "qwen-small", "best-of"), "inline", "python", 0,
                      "def f():\n    ", 1000.0, "def f():\n    ", "\n\nf()\n")


class FlakyStore:
    """A store double that fails its first `failures` writes, and counts purges."""

    def __init__(self, failures: int = 0) -> None:
        self.location = parse_location("postgresql://db-1/codequorum")
        self.failures = failures
        self.added: list = []
        self.purges: list[float] = []
        self.closed = False
        self.release = threading.Event()
        self.release.set()

    def add(self, records):
        self.release.wait(5)
        if self.failures:
            self.failures -= 1
            raise StoreError("could not write to the feedback store: connection refused")
        self.added += records
        return len(records)

    def purge(self, before):
        self.purges.append(before)
        return 0

    def close(self):
        self.closed = True


def test_a_record_carries_the_member_strategy_and_prompt_window():
    stored = record_for("s-1", "accepted", SENT, keep_text=True, now=1001.0)
    assert (stored.suggestion_id, stored.event, stored.kind, stored.member, stored.strategy, stored.language,
            stored.rank, stored.text) == ("s-1", "accepted", "inline", "qwen-small", "best-of", "python", 0,
                                          "return 1")
    assert (stored.prompt_prefix, stored.prompt_suffix) == ("def f():\n    ", "\n\nf()\n")
    assert (stored.suggested_at, stored.event_at) == (1000.0, 1001.0)
    assert record_for("s-1", "accepted", SENT, True).event_id != stored.event_id


def test_without_keep_text_no_code_is_recorded():
    stored = record_for("s-1", "accepted", SENT, keep_text=False)
    assert (stored.text, stored.prefix_tail, stored.prompt_prefix, stored.prompt_suffix) == ("", "", "", "")
    assert (stored.member, stored.language, stored.event) == ("qwen-small", "python", "accepted")


def test_a_partial_accept_keeps_its_length_with_or_without_the_text():
    assert record_for("s-1", "accepted_partial", SENT, keep_text=True, accepted_chars=6).accepted_chars == 6
    assert record_for("s-1", "accepted_partial", SENT, keep_text=False, accepted_chars=6).accepted_chars == 6
    assert record_for("s-1", "accepted", SENT, keep_text=True).accepted_chars is None


def test_the_log_gives_unique_ids_and_forgets_the_oldest():
    log = SuggestionLog(size=2)
    ids = [log.add(SENT) for _ in range(3)]
    assert len(set(ids)) == 3
    assert log.get(ids[0]) is None and log.get(ids[2]) == SENT
    assert SuggestionLog().add(SENT) not in ids


def test_an_sqlite_writer_stores_at_once(tmp_path):
    writer = FeedbackWriter(open_store(tmp_path / "f.sqlite3"), retention_days=None, background=False)
    writer.submit(record())
    assert len(list(open_store(tmp_path / "f.sqlite3").records())) == 1
    writer.close()


def test_a_failing_store_at_once_is_logged_not_raised(caplog):
    writer = FeedbackWriter(FlakyStore(failures=1), retention_days=None, background=False)
    writer.submit(record())
    assert writer.dropped == 1 and "connection refused" in caplog.text


def test_a_background_writer_retries_until_the_store_answers(monkeypatch):
    store = FlakyStore(failures=2)
    writer = FeedbackWriter(store, retention_days=None, background=True)
    stored = [record(at=float(i)) for i in range(3)]
    for one in stored:
        writer.submit(one)
    assert writer.flush(timeout=10)
    assert store.added == stored and writer.dropped == 0
    writer.close()
    assert store.closed


def test_a_background_writer_bounds_what_it_holds():
    store = FlakyStore()
    store.release.clear()  # the store hangs: records pile up
    writer = FeedbackWriter(store, retention_days=None, background=True)
    for i in range(MAX_PENDING + 600):
        writer.submit(record(at=float(i)))
    assert writer.dropped >= 100
    store.release.set()
    assert writer.flush(timeout=10)
    assert len(store.added) + writer.dropped == MAX_PENDING + 600
    assert store.added[-1].event_at == MAX_PENDING + 599  # the newest are kept
    writer.close()


def test_old_events_are_purged_when_opened_then_hourly():
    now = [100 * DAY_S]
    store = FlakyStore()
    writer = FeedbackWriter(store, retention_days=30, background=False, clock=lambda: now[0])
    writer.submit(record())
    writer.submit(record())
    assert store.purges == [70 * DAY_S]
    now[0] += PURGE_EVERY_S
    writer.submit(record())
    assert store.purges == [70 * DAY_S, 70 * DAY_S + PURGE_EVERY_S]


def test_no_retention_keeps_everything():
    store = FlakyStore()
    FeedbackWriter(store, retention_days=None, background=False).submit(record())
    assert store.purges == []


def test_the_target_follows_the_server_settings(tmp_path):
    settings = SettingsSource({"server": {"feedback_db": "postgresql://db-1/cq", "feedback_retention_days": 7}},
                              "t").settings()
    assert feedback_target(settings.server) == FeedbackTarget(parse_location("postgresql://db-1/cq"), 7)
    assert feedback_target(SettingsSource({"server": {"feedback": False}}, "t").settings().server) is None


def test_sessions_share_one_writer_per_store_and_the_last_closes_it():
    stores: list[FlakyStore] = []
    pool = FeedbackPool(lambda location: stores.append(FlakyStore()) or stores[-1])
    target = FeedbackTarget(parse_location("postgresql://db-1/cq"), None)
    first, second = pool.acquire(target), pool.acquire(target)
    assert first is second and len(stores) == 1
    assert pool.acquire(FeedbackTarget(parse_location("postgresql://db-2/cq"), None)) is not first
    pool.release(first)
    assert not stores[0].closed
    pool.release(second)
    assert stores[0].closed


def session_on(tmp_path, **server) -> Session:
    source = SettingsSource({"server": {"feedback_db": str(tmp_path / "f.sqlite3"), **server}}, "test")
    return Session(ServerContext(source, engines=EnginePool(Closing)))


@pytest.mark.parametrize("keep_text", [True, False])
async def test_a_session_stores_the_prompt_window_and_the_accept(tmp_path, keep_text):
    session = session_on(tmp_path, prefix_chars=200, suffix_chars=20, feedback_keep_text=keep_text)
    session.configure(session.settings)
    prefix = "x = 1\n" * 100 + "def f():\n    "
    suffix = "\n" + "y = 2\n" * 100
    [sid] = session.remember((Suggestion("return 1", "m", "single"),), "inline", "python", prefix, suffix)
    assert session.record_feedback(sid, "accepted") and not session.record_feedback("nope", "shown")
    await session.aclose()
    [stored] = open_store(tmp_path / "f.sqlite3").records()
    assert (stored.suggestion_id, stored.event, stored.member) == (sid, "accepted", "m")
    if keep_text:
        assert prefix.endswith(stored.prompt_prefix) and 200 <= len(stored.prompt_prefix) < 200 + 512
        assert suffix.startswith(stored.prompt_suffix) and stored.prompt_suffix.startswith("\ny = 2\n")
        assert len(stored.prompt_suffix) <= 20 + 7 and stored.text == "return 1"
    else:
        assert (stored.prompt_prefix, stored.prompt_suffix, stored.text) == ("", "", "")


async def test_a_store_that_cannot_be_opened_keeps_the_old_settings(tmp_path, monkeypatch):
    import sys

    from codequorum.vocabulary.errors import ConfigError

    session = session_on(tmp_path)
    session.configure(session.settings)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"feedback_db: .*pip install 'codequorum\[postgresql\]'"):
        session.configure(SettingsSource({"server": {"feedback_db": "postgresql://db-1/cq"}}, "new.toml").settings())
    assert session.settings.server.feedback_db == str(tmp_path / "f.sqlite3")
    [sid] = session.remember((Suggestion("x", "m", "single"),), "inline", "python", "a = ")
    assert session.record_feedback(sid, "accepted")
    await session.aclose()
    assert len(list(open_store(tmp_path / "f.sqlite3").records())) == 1


async def test_a_session_stores_partial_accepts_with_their_length(tmp_path):
    session = session_on(tmp_path)
    session.configure(session.settings)
    [sid] = session.remember((Suggestion("return a + b", "m", "single"),), "inline", "python", "def f(a, b):\n    ")
    assert session.record_feedback(sid, "accepted_partial", accepted_chars=7)
    assert session.record_feedback(sid, "accepted")
    await session.aclose()
    stored = list(open_store(tmp_path / "f.sqlite3").records())
    assert [(r.event, r.accepted_chars) for r in stored] == [("accepted_partial", 7), ("accepted", None)]
