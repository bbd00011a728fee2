"""What only the SQLite store does: files from before event ids or partial accepts, reads that
create nothing."""

import sqlite3
import threading

import pytest

from codequorum.stores.errors import StoreError
from codequorum.stores.migrate import migrate
from codequorum.stores.open import open_store
from tests.unit.stores.records_double import record

LEGACY_SCHEMA = """
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY, suggestion_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('shown', 'accepted', 'dismissed')),
    kind TEXT NOT NULL, member TEXT NOT NULL, strategy TEXT NOT NULL, language TEXT,
    rank INTEGER NOT NULL, text TEXT NOT NULL, prefix_tail TEXT NOT NULL,
    suggested_at REAL NOT NULL, event_at REAL NOT NULL
);
INSERT INTO feedback VALUES (1, 'ab-1', 'accepted', 'inline', 'qwen-small', 'best-of', 'python', 0,
                             'return 1', 'def f():\n    ', 10.0, 11.0);
"""


def legacy_file(path):
    connection = sqlite3.connect(path)
    connection.executescript(LEGACY_SCHEMA)
    connection.commit()
    connection.close()
    return path


def test_a_file_from_before_event_ids_is_upgraded_and_kept(tmp_path):
    store = open_store(legacy_file(tmp_path / "old.sqlite3"))
    [old] = store.records()
    assert (old.event_id, old.suggestion_id, old.text, old.prefix_tail) == (
        "sqlite-ab-1-accepted-1", "ab-1", "return 1", "def f():\n    ")
    assert (old.prompt_prefix, old.prompt_suffix) == ("", "")
    assert store.add([record(at=12.0)]) == 1
    assert len(list(store.records())) == 2
    store.close()


# A file the store wrote before partial accepts: event ids and prompt windows, the old CHECK.
BEFORE_PARTIAL_SCHEMA = """
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY, event_id TEXT, suggestion_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('shown', 'accepted', 'dismissed')),
    kind TEXT NOT NULL, member TEXT NOT NULL, strategy TEXT NOT NULL, language TEXT,
    rank INTEGER NOT NULL, text TEXT NOT NULL, prefix_tail TEXT NOT NULL,
    prompt_prefix TEXT NOT NULL DEFAULT '', prompt_suffix TEXT NOT NULL DEFAULT '',
    suggested_at REAL NOT NULL, event_at REAL NOT NULL
);
CREATE TABLE router_memory (position INTEGER PRIMARY KEY, text TEXT NOT NULL, source TEXT NOT NULL,
    outcomes TEXT NOT NULL, tokens TEXT NOT NULL, embedding TEXT NOT NULL);
CREATE TABLE router_memory_version (singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version TEXT NOT NULL, saved_at REAL NOT NULL);
CREATE UNIQUE INDEX feedback_event_id ON feedback (event_id);
CREATE INDEX feedback_member ON feedback (member, event);
CREATE INDEX feedback_event_at ON feedback (event_at);
INSERT INTO feedback VALUES (7, 'e-7', 'ab-7', 'shown', 'inline', 'qwen-small', 'best-of', 'python', 0,
                             'return 7', 'def f():\n    ', 'def f():\n    ', '\n', 20.0, 20.0);
INSERT INTO feedback VALUES (3, 'e-3', 'ab-3', 'accepted', 'inline', 'qwen-small', 'best-of', 'python', 0,
                             'return 3', 'def f():\n    ', 'def f():\n    ', '\n', 20.0, 20.0);
INSERT INTO router_memory_version VALUES (1, 'mem-1', 5.0);
"""


def file_before_partial_accepts(path):
    connection = sqlite3.connect(path)
    connection.executescript(BEFORE_PARTIAL_SCHEMA)
    connection.close()
    return path


def test_a_file_from_before_partial_accepts_keeps_its_rows_and_takes_them(tmp_path):
    path = file_before_partial_accepts(tmp_path / "feedback.sqlite3")
    store = open_store(path)
    old = list(store.records())
    assert [(r.event_id, r.event, r.text, r.accepted_chars) for r in old] == [
        ("e-3", "accepted", "return 3", None), ("e-7", "shown", "return 7", None)]  # same event_at: by id
    assert store.add([record("accepted_partial", at=30.0, accepted_chars=4), old[0]]) == 1
    assert [r.accepted_chars for r in store.records(events=("accepted_partial",))] == [4]
    assert store.memory_version() == "mem-1"
    store.close()
    database = sqlite3.connect(path)
    assert [row[0] for row in database.execute("SELECT id FROM feedback ORDER BY id")] == [3, 7, 8]
    indexes = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert indexes == {"feedback_event_id", "feedback_member", "feedback_event_at"}
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"feedback", "router_memory", "router_memory_version"}
    with pytest.raises(sqlite3.IntegrityError):  # the CHECK still refuses other events
        database.execute("INSERT INTO feedback (suggestion_id, event, kind, member, strategy, rank, text,"
                         " prefix_tail, suggested_at, event_at) VALUES ('x', 'liked', 'inline', 'm', 's',"
                         " 0, 't', 'p', 1.0, 1.0)")
    database.close()


def test_a_file_from_before_event_ids_takes_partial_accepts_too(tmp_path):
    store = open_store(legacy_file(tmp_path / "old.sqlite3"))
    assert store.add([record("accepted_partial", at=12.0, accepted_chars=2)]) == 1
    assert [(r.event, r.accepted_chars) for r in store.records()] == [("accepted", None), ("accepted_partial", 2)]
    store.close()


def test_stores_opening_an_old_file_together_upgrade_it_once(tmp_path):
    path = file_before_partial_accepts(tmp_path / "feedback.sqlite3")
    stores = [open_store(path) for _ in range(4)]
    errors: list[BaseException] = []

    def start(store):
        try:
            store.add([record("accepted_partial", accepted_chars=1)])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(stores[0].records())) == 2 + 4
    for store in stores:
        store.close()


def test_an_upgraded_file_migrates_once(tmp_path):
    source = open_store(legacy_file(tmp_path / "old.sqlite3"))
    target = open_store(tmp_path / "new.sqlite3")
    assert migrate(source, target).events_added == 1
    assert migrate(source, target).events_added == 0
    source.close()
    target.close()


def test_reading_a_missing_file_creates_nothing(tmp_path):
    store = open_store(tmp_path / "none" / "feedback.sqlite3")
    assert list(store.records()) == [] and store.load_memory() is None and store.purge(1e12) == 0
    assert not (tmp_path / "none").exists()


def test_an_unwritable_place_is_a_store_error(tmp_path):
    (tmp_path / "file").write_text("")
    store = open_store(tmp_path / "file" / "feedback.sqlite3")  # a file where a folder should be
    with pytest.raises(StoreError, match="could not open the feedback store .*file/feedback.sqlite3"):
        store.add([record()])
