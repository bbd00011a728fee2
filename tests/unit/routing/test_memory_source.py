"""The router's memory in a JSONL file or a store, loaded again only when it changed."""

from __future__ import annotations

import pytest

from codequorum.routing import memory_source
from codequorum.routing.entry import Entry
from codequorum.routing.memory import RouterMemory
from codequorum.routing.memory_source import describe, load_memory, save_memory
from codequorum.stores.errors import StoreError
from codequorum.stores.open import open_store
from codequorum.vocabulary.errors import CodequorumError


def memory(*texts: str) -> RouterMemory:
    return RouterMemory([Entry(t, "feedback", {"m": 1.0}, {}, [1.0, 0.0]) for t in texts])


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    monkeypatch.setattr(memory_source, "_loaded", {})
    monkeypatch.setattr(memory_source, "_stores", {})


@pytest.mark.parametrize("where", ["memory.jsonl", "sqlite://{tmp}/memory.sqlite3"])
def test_a_memory_comes_back_as_it_was_saved(tmp_path, where):
    location = where.format(tmp=tmp_path) if "{" in where else str(tmp_path / where)
    save_memory(memory("sort", "add"), location)
    assert [e.text for e in load_memory(location).entries] == ["sort", "add"]


def test_a_store_is_asked_again_only_after_the_recheck_interval(tmp_path, monkeypatch):
    location = f"sqlite://{tmp_path / 'shared.sqlite3'}"
    save_memory(memory("first"), location)
    assert len(load_memory(location)) == 1
    save_memory(memory("second", "build"), location)  # another server rebuilt it
    assert len(load_memory(location)) == 1  # within RECHECK_S: the memory already loaded
    monkeypatch.setattr(memory_source, "RECHECK_S", 0.0)
    assert [e.text for e in load_memory(location).entries] == ["second", "build"]


def test_a_store_without_a_memory_says_how_to_build_one(tmp_path):
    location = f"sqlite://{tmp_path / 'empty.sqlite3'}"
    with pytest.raises(CodequorumError, match=f"codequorum router build --out {location}"):
        load_memory(location)


def test_a_failing_store_keeps_the_memory_loaded_before(tmp_path, monkeypatch, caplog):
    location = f"sqlite://{tmp_path / 'shared.sqlite3'}"
    save_memory(memory("kept"), location)
    load_memory(location)
    monkeypatch.setattr(memory_source, "RECHECK_S", 0.0)

    def down():
        raise StoreError("could not read the feedback store: connection refused")

    monkeypatch.setattr(memory_source._stores[location], "memory_version", down)
    assert [e.text for e in load_memory(location).entries] == ["kept"]
    assert "routing with the memory loaded before" in caplog.text


def test_a_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "memory.jsonl"
    save_memory(memory("one"), path)
    assert len(load_memory(path)) == 1
    save_memory(memory("one", "two"), path)
    import os

    os.utime(path, (1, 1))  # a different modification time, whatever the clock's resolution
    assert len(load_memory(path)) == 2


def test_messages_name_a_database_without_its_password():
    assert describe("postgresql://cq:pw@db-1/cq") == "postgresql://cq:***@db-1/cq"
    assert describe("/tmp/memory.jsonl") == "/tmp/memory.jsonl"


def test_the_feedback_store_and_the_memory_can_share_one_file(tmp_path):
    location = f"sqlite://{tmp_path / 'feedback.sqlite3'}"
    save_memory(memory("x"), location)
    assert open_store(location).load_memory() == memory("x").entries
