"""What only the SQLite store does: files from before event ids, reads that create nothing."""

import sqlite3

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
