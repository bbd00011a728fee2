"""The store protocol, held by both implementations: an SQLite file and a real PostgreSQL
server on 127.0.0.1 (started once for the session by tests/postgresql.py; a PostgreSQL that
cannot start fails these tests with the reason)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codequorum.routing.entry import Entry
from codequorum.stores.errors import StoreError
from codequorum.stores.migrate import migrate
from codequorum.stores.open import open_store
from codequorum.stores.protocol import FeedbackStore
from tests.unit.stores.records_double import record

KINDS = ["sqlite", "postgresql"]


def location_of(kind: str, request: pytest.FixtureRequest, tmp_path, name: str = "feedback.sqlite3") -> str:
    if kind == "sqlite":
        return f"sqlite://{tmp_path / name}"
    return request.getfixturevalue("postgresql").fresh_url()


@pytest.fixture(params=KINDS)
def location(request: pytest.FixtureRequest, tmp_path) -> str:
    return location_of(request.param, request, tmp_path)


@pytest.fixture
def store(location: str) -> Iterator[FeedbackStore]:
    opened = open_store(location)
    yield opened
    opened.close()


def test_records_come_back_as_they_were_stored(store):
    stored = [record("shown", at=1.0), record("accepted", at=2.0, language=None, rank=2),
              record("dismissed", member="smollm2", at=3.0, text="", prompt_prefix="", prompt_suffix="")]
    assert store.add(stored) == 3
    assert list(store.records()) == stored


def test_a_partial_accept_comes_back_with_its_length(store):
    stored = [record("accepted_partial", at=1.0, accepted_chars=7), record("accepted_partial", at=2.0, accepted_chars=13),
              record("accepted", at=3.0)]
    store.add(stored)
    assert list(store.records()) == stored
    assert [r.accepted_chars for r in store.records(events=("accepted_partial",))] == [7, 13]


def test_adding_the_same_events_again_adds_nothing(store):
    first = [record(at=1.0), record(at=2.0)]
    assert store.add(first) == 2
    assert store.add([*first, record(at=3.0)]) == 1
    assert [r.event_at for r in store.records()] == [1.0, 2.0, 3.0]


def test_records_are_filtered_by_event_oldest_first(store):
    store.add([record("accepted", at=5.0), record("shown", at=1.0), record("dismissed", at=3.0)])
    assert [r.event for r in store.records(events=("accepted", "dismissed"))] == ["dismissed", "accepted"]
    assert [r.event for r in store.records()] == ["shown", "dismissed", "accepted"]


def test_purge_deletes_only_older_events(store):
    store.add([record(at=10.0), record(at=20.0), record(at=30.0)])
    assert store.purge(before=25.0) == 2
    assert [r.event_at for r in store.records()] == [30.0]
    assert store.purge(before=25.0) == 0


def test_there_is_no_router_memory_until_one_is_saved(store):
    assert store.memory_version() is None
    assert store.load_memory() is None


def test_the_router_memory_is_replaced_whole(store):
    entries = [Entry("sort a list", "feedback", {"qwen-small": 1.0, "smollm2": 0.0}, {"qwen-small": 12.5},
                     [0.25, -0.5, 1.0]),
               Entry("add numbers", "bench:HumanEval/0", {"qwen-large": 0.5}, {}, [0.0, 0.125, -1.0])]
    store.save_memory(entries, version="v1")
    assert store.memory_version() == "v1"
    assert store.load_memory() == entries  # the embeddings are exact in float32 here
    store.save_memory(entries[1:], version="v2")
    assert store.memory_version() == "v2"
    assert store.load_memory() == entries[1:]
    store.save_memory([], version="v3")
    assert store.load_memory() == []


def test_two_stores_on_one_location_see_each_others_writes(location):
    one, two = open_store(location), open_store(location)
    try:
        one.add([record(member="from-one", at=1.0)])
        two.add([record(member="from-two", at=2.0)])
        two.save_memory([Entry("x", "feedback", {"from-two": 1.0}, {}, [1.0])], version="built-by-two")
        assert [r.member for r in one.records()] == ["from-one", "from-two"]
        assert [r.member for r in two.records()] == ["from-one", "from-two"]
        assert one.memory_version() == "built-by-two"
        assert one.load_memory() == two.load_memory()
    finally:
        one.close()
        two.close()


def test_a_closed_store_opens_again_on_use(store):
    store.add([record(at=1.0)])
    store.close()
    assert len(list(store.records())) == 1


@pytest.mark.parametrize("target_kind", KINDS)
@pytest.mark.parametrize("source_kind", KINDS)
def test_migration_copies_everything_once(source_kind, target_kind, request, tmp_path):
    source = open_store(location_of(source_kind, request, tmp_path, "source.sqlite3"))
    target = open_store(location_of(target_kind, request, tmp_path, "target.sqlite3"))
    try:
        events = [record("shown", at=1.0), record("accepted", at=2.0),
                  record("accepted_partial", at=3.0, accepted_chars=4)]
        source.add(events)
        source.save_memory([Entry("t", "feedback", {"m": 1.0}, {}, [0.5])], version="mem-1")
        target.add([events[0]])  # already there: not copied twice
        done = migrate(source, target)
        assert (done.events_read, done.events_added, done.memory_entries) == (3, 2, 1)
        again = migrate(source, target)
        assert (again.events_read, again.events_added, again.memory_entries) == (3, 0, None)
        assert list(target.records()) == events
        assert target.memory_version() == "mem-1" and target.load_memory() == source.load_memory()
    finally:
        source.close()
        target.close()


def test_a_store_is_not_migrated_into_itself(location):
    store = open_store(location)
    try:
        with pytest.raises(StoreError, match="both the source and the target"):
            migrate(store, open_store(location))
    finally:
        store.close()


def test_many_records_are_read_a_page_at_a_time_in_order(store, monkeypatch):
    import codequorum.stores.postgresql as postgresql_store
    import codequorum.stores.sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "PAGE", 3)
    monkeypatch.setattr(postgresql_store, "PAGE", 3)
    stored = [record(at=float(i // 2)) for i in range(10)]  # ties on event_at across pages
    store.add(stored)
    assert list(store.records()) == stored
    assert [r.event_id for r in store.records(events=("accepted",))] == [r.event_id for r in stored]
